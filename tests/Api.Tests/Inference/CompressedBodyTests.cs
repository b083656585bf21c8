using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace ModelService.Api.Tests.Inference;

/// <summary>Content-Encoding gzip and deflate request bodies, as Triton's client sends them with
/// request_compression_algorithm; the decompressed size counts against Limits:MaxRequestBodyBytes.</summary>
public sealed class CompressedBodyTests : IDisposable
{
    private const int LimitBytes = 1024 * 1024;

    private const string Body = """{"inputs":[{"name":"input0","shape":[2,2],"datatype":"FP32","data":[0.5,0.5,0.9,0.2]}]}""";

    private readonly ModelServiceFactory _factory = new(new Dictionary<string, string?> { ["Limits:MaxRequestBodyBytes"] = $"{LimitBytes}" });

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    public async Task A_compressed_json_body_is_scored_like_the_plain_one(string encoding)
    {
        var client = _factory.CreateClient();
        var plain = await ServiceApi.ExpectAsync(await client.PostAsync(Infer, ServiceApi.JsonBody(Body)), HttpStatusCode.OK);

        var response = await client.PostAsync(Infer, Compressed(Encoding.UTF8.GetBytes(Body), encoding, "application/json"));

        var answer = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Equal(plain.GetProperty("outputs").GetRawText(), answer.GetProperty("outputs").GetRawText());
    }

    [Fact]
    public async Task A_gzip_binary_request_without_content_type_is_scored()
    {
        var client = _factory.CreateClient();
        var binary = OipWire.BinaryRequest([[0.5, 0.5]], "FP32", null);
        var raw = await binary.ReadAsByteArrayAsync();

        var content = Compressed(raw, "gzip", null);
        content.Headers.Add(OipWire.HeaderLength, binary.Headers.GetValues(OipWire.HeaderLength));
        var response = await client.PostAsync(Infer, content);

        var answer = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.InRange(answer.GetProperty("outputs")[0].GetProperty("data")[0].GetDouble(), 280_000, 320_000);
    }

    [Fact]
    public async Task A_gzip_bomb_is_a_413_once_the_limit_is_passed_not_an_allocation_of_its_expanded_size()
    {
        var client = _factory.CreateClient();
        // 256 MiB of JSON-ish whitespace compresses to ~250 KB: a body far under the limit that expands far over it.
        var bomb = Bomb(256L * 1024 * 1024);
        Assert.True(bomb.Length < LimitBytes, $"The compressed bomb ({bomb.Length} bytes) must be under the limit.");
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        var response = await client.PostAsync(Infer, Compressed(bomb, null, "application/json", alreadyCompressed: true));

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        await BinaryTensorDataTests.ExpectErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, $"{LimitBytes}");
        // The process-wide count includes other tests running meanwhile; the bound is far below the expanded 256 MiB.
        Assert.True(allocated < 96L * 1024 * 1024, $"Serving the bomb allocated {allocated / 1024 / 1024} MiB.");
        var stats = await client.GetJsonAsync("/v2/models/modelservice/stats");
        Assert.Equal(0, stats.GetProperty("model_stats")[0].GetProperty("inference_count").GetInt64());
    }

    public void Dispose() => _factory.Dispose();

    private static Uri Infer => new("/v2/models/modelservice/infer", UriKind.Relative);

    private static ByteArrayContent Compressed(byte[] body, string? encoding, string? contentType, bool alreadyCompressed = false)
    {
        var bytes = body;
        if (!alreadyCompressed)
        {
            using var output = new MemoryStream();
            using (Stream compressor = encoding == "gzip"
                ? new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)
                : new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
            {
                compressor.Write(body);
            }
            bytes = output.ToArray();
        }
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentEncoding.Add(encoding ?? "gzip");
        if (contentType is not null)
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        return content;
    }

    private static byte[] Bomb(long expandedBytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var chunk = new byte[1024 * 1024];
            chunk.AsSpan().Fill((byte)' ');
            for (long written = 0; written < expandedBytes; written += chunk.Length)
            {
                gzip.Write(chunk);
            }
        }
        return output.ToArray();
    }
}
