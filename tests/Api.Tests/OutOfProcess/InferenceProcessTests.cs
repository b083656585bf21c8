using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Net.Client;
using ModelService.Api.Inference.Grpc;
using ModelService.Api.Tests.Inference;

namespace ModelService.Api.Tests.OutOfProcess;

/// <summary>The protocol against the real process on Kestrel: gRPC on its own HTTP/2 port (Inference:GrpcPort) beside the
/// HTTP/1 URL, and a gzip bomb refused by the server's own body limit.</summary>
public sealed class InferenceProcessTests : IDisposable
{
    private readonly string _storage = ModelServiceFactory.NewStorageFolder();

    [Fact]
    public async Task Grpc_is_served_on_its_own_http2_port_beside_the_rest_url()
    {
        using var service = await ServiceProcess.StartAsync(_storage);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{service.GrpcPort}");
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var request = new ModelInferRequest
        {
            ModelName = "modelservice",
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input0", Datatype = "FP32", Shape = { 1, 2 } } },
        };
        request.RawInputContents.Add(ByteString.CopyFrom([0, 0, 0, 63, 0, 0, 0, 63])); // 0.5f, 0.5f little-endian

        var live = await grpc.ServerLiveAsync(new ServerLiveRequest());
        var response = await grpc.ModelInferAsync(request);
        var rest = await service.Client.PostAsync(new Uri("/v2/models/modelservice/infer", UriKind.Relative),
            ServiceApi.JsonBody("""{"inputs":[{"name":"input0","shape":[1,2],"datatype":"FP32","data":[0.5,0.5]}]}"""));

        Assert.True(live.Live, service.Output);
        var answer = await ServiceApi.ExpectAsync(rest, HttpStatusCode.OK);
        Assert.Equal(answer.GetProperty("outputs")[0].GetProperty("data")[0].GetDouble(),
            OipWire.Doubles(Assert.Single(response.RawOutputContents).ToByteArray())[0]);
    }

    [Fact]
    public async Task A_gzip_bomb_over_the_body_limit_is_a_413_error_from_kestrel()
    {
        using var service = await ServiceProcess.StartAsync(_storage);
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            var chunk = new byte[1024 * 1024];
            chunk.AsSpan().Fill((byte)' ');
            for (var i = 0; i < 160; i++)
            {
                gzip.Write(chunk); // 160 MiB expanded, over the default limit of 100 MiB
            }
        }
        var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentEncoding.Add("gzip");
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await service.Client.PostAsync(new Uri("/v2/models/modelservice/infer", UriKind.Relative), content);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode}: {text}\n{service.Output}");
        using var json = JsonDocument.Parse(text);
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("error").GetString()));
        Assert.False(service.HasExited);
    }

    public void Dispose() => ModelServiceFactory.DeleteStorage(_storage);
}
