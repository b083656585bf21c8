using System.Net;
using System.Text.Json;

namespace ModelService.Api.Tests.Inference;

/// <summary>The binary tensor data extension as Triton's and KServe's clients send it: JSON header, raw tensor bytes,
/// Inference-Header-Content-Length; with and without a Content-Type.</summary>
public sealed class BinaryTensorDataTests(ModelServiceFactory factory) : IClassFixture<ModelServiceFactory>
{
    private static readonly double[][] s_rows = [[0.5, 0.5], [0.9, 0.2], [0.1, 0.7]];

    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("FP32", null)]
    [InlineData("FP32", "application/octet-stream")]
    [InlineData("FP64", null)]
    [InlineData("FP64", "application/octet-stream")]
    public async Task A_binary_request_is_scored_like_the_same_rows_in_json(string datatype, string? contentType)
    {
        var expected = await JsonInferAsync(datatype);

        var response = await _client.PostAsync(Infer, OipWire.BinaryRequest(s_rows, datatype, contentType));

        var answer = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.ToString());
        var output = Assert.Single(answer.GetProperty("outputs").EnumerateArray());
        Assert.Equal(expected, output.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()));
    }

    [Theory]
    [InlineData(",\"parameters\":{\"binary_data_output\":true}", "")]
    [InlineData("", ",\"outputs\":[{\"name\":\"output0\",\"parameters\":{\"binary_data\":true}}]")]
    public async Task Binary_output_when_asked_is_fp64_little_endian_after_the_json_header(string parameters, string outputs)
    {
        var expected = await JsonInferAsync("FP32");

        var response = await _client.PostAsync(Infer, OipWire.BinaryRequest(s_rows, "FP32", null, parameters, outputs));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        var (header, raw) = await OipWire.ReadBinaryAsync(response);
        var output = Assert.Single(header.GetProperty("outputs").EnumerateArray());
        Assert.Equal("FP64", output.GetProperty("datatype").GetString());
        Assert.Equal([3L, 1L], output.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()));
        Assert.Equal(24, output.GetProperty("parameters").GetProperty("binary_data_size").GetInt64());
        Assert.False(output.TryGetProperty("data", out _));
        Assert.Equal(expected, OipWire.Doubles(raw));
    }

    [Theory]
    [InlineData("FP32")]
    [InlineData("FP64")]
    public async Task A_large_binary_request_scored_in_parallel_slices_matches_json_bit_for_bit(string datatype)
    {
        // More rows than two scoring slices: scored on several threads, straight from the request body.
        var random = new Random(17);
        var rows = Enumerable.Range(0, 40_003).Select(_ => new[] { random.NextDouble(), random.NextDouble() }).ToArray();
        var expected = await JsonInferAsync(datatype, rows);

        var response = await _client.PostAsync(Infer, OipWire.BinaryRequest(rows, datatype, null, ",\"parameters\":{\"binary_data_output\":true}"));

        var (_, raw) = await OipWire.ReadBinaryAsync(response);
        Assert.Equal(expected, OipWire.Doubles(raw));
    }

    [Fact]
    public async Task A_json_request_can_ask_for_binary_output()
    {
        var response = await _client.PostAsync(Infer, ServiceApi.JsonBody("""
            {"inputs":[{"name":"input0","shape":[1,2],"datatype":"FP64","data":[0.5,0.5]}],"parameters":{"binary_data_output":true}}
            """));

        var (header, raw) = await OipWire.ReadBinaryAsync(response);
        Assert.Equal(8, header.GetProperty("outputs")[0].GetProperty("parameters").GetProperty("binary_data_size").GetInt64());
        Assert.InRange(Assert.Single(OipWire.Doubles(raw)), 280_000, 320_000);
    }

    [Theory]
    [InlineData(23, "binary_data_size 23")]
    [InlineData(25, "binary_data_size 25")]
    public async Task A_binary_size_that_disagrees_with_the_body_is_a_400_naming_it(int declared, string mentioned)
    {
        var raw = new byte[24];
        var content = OipWire.Binary($$$"""{"inputs":[{"name":"input0","shape":[3,2],"datatype":"FP32","parameters":{"binary_data_size":{{{declared}}}}}]}""",
            raw, null);

        var response = await _client.PostAsync(Infer, content);

        await ExpectErrorAsync(response, HttpStatusCode.BadRequest, mentioned);
    }

    [Fact]
    public async Task Raw_bytes_of_the_wrong_length_for_the_shape_are_a_400()
    {
        var content = OipWire.Binary("""{"inputs":[{"name":"input0","shape":[3,2],"datatype":"FP32","parameters":{"binary_data_size":16}}]}""",
            new byte[16], null);

        var response = await _client.PostAsync(Infer, content);

        await ExpectErrorAsync(response, HttpStatusCode.BadRequest, "24 bytes");
    }

    [Fact]
    public async Task A_header_length_past_the_body_is_a_400()
    {
        var content = OipWire.BinaryRequest(s_rows, "FP32", null);
        content.Headers.Remove(OipWire.HeaderLength);
        content.Headers.Add(OipWire.HeaderLength, "100000");

        var response = await _client.PostAsync(Infer, content);

        await ExpectErrorAsync(response, HttpStatusCode.BadRequest, "Inference-Header-Content-Length");
    }

    [Fact]
    public async Task Binary_data_without_the_header_length_is_a_400_saying_so()
    {
        var content = OipWire.BinaryRequest(s_rows, "FP32", "application/octet-stream");
        content.Headers.Remove(OipWire.HeaderLength);

        var response = await _client.PostAsync(Infer, content);

        await ExpectErrorAsync(response, HttpStatusCode.BadRequest, "Inference-Header-Content-Length");
    }

    [Fact]
    public async Task A_non_finite_binary_value_is_a_400_naming_the_element()
    {
        var response = await _client.PostAsync(Infer, OipWire.BinaryRequest([[0.5, 0.5], [double.NaN, 0.2]], "FP64", null));

        await ExpectErrorAsync(response, HttpStatusCode.BadRequest, "Element 2");
    }

    [Fact]
    public async Task Server_metadata_lists_the_binary_tensor_data_extension()
    {
        var metadata = await _client.GetJsonAsync("/v2");

        Assert.Contains("binary_tensor_data", metadata.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
    }

    internal static async Task ExpectErrorAsync(HttpResponseMessage response, HttpStatusCode status, string mentioned)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.ToString());
        using var json = JsonDocument.Parse(text);
        Assert.Contains(mentioned, json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private static Uri Infer => new("/v2/models/modelservice/infer", UriKind.Relative);

    /// <summary>The same rows through the JSON form (values rounded to <paramref name="datatype"/> first, as binary sends them).</summary>
    private async Task<double[]> JsonInferAsync(string datatype, double[][]? rows = null)
    {
        rows ??= s_rows;
        var data = rows.SelectMany(r => r).Select(v => datatype == "FP32" ? (double)(float)v : v);
        var response = await _client.PostAsync(Infer, ServiceApi.JsonBody(JsonSerializer.Serialize(new
        {
            inputs = new[] { new { name = "input0", shape = new[] { rows.Length, 2 }, datatype = "FP64", data } },
        })));
        var answer = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        return [.. answer.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(v => v.GetDouble())];
    }
}
