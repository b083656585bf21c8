using System.Buffers.Binary;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using ModelService.Api.Inference.Grpc;

namespace ModelService.Api.Tests.Inference;

/// <summary>The protocol over gRPC through Grpc.Net.Client, against the test server's handler: the same models, answers
/// and statistics as REST.</summary>
public sealed class GrpcInferenceTests(ModelServiceFactory factory) : IClassFixture<ModelServiceFactory>
{
    private readonly GRPCInferenceService.GRPCInferenceServiceClient _grpc = Connect(factory);

    private readonly HttpClient _rest = factory.CreateClient();

    [Fact]
    public async Task Health_and_metadata_answer_as_over_rest()
    {
        var rest = await _rest.GetJsonAsync("/v2/models/modelservice");

        Assert.True((await _grpc.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.True((await _grpc.ServerReadyAsync(new ServerReadyRequest())).Ready);
        Assert.True((await _grpc.ModelReadyAsync(new ModelReadyRequest { Name = "modelservice" })).Ready);
        Assert.False((await _grpc.ModelReadyAsync(new ModelReadyRequest { Name = "other" })).Ready);
        var server = await _grpc.ServerMetadataAsync(new ServerMetadataRequest());
        Assert.Equal("modelservice", server.Name);
        Assert.Contains("binary_tensor_data", server.Extensions);
        var model = await _grpc.ModelMetadataAsync(new ModelMetadataRequest { Name = "modelservice" });
        Assert.Equal(rest.GetProperty("platform").GetString(), model.Platform);
        Assert.Equal(rest.GetProperty("versions").EnumerateArray().Select(v => v.GetString()), model.Versions);
        Assert.Equal("input0", model.Inputs[0].Name);
        Assert.Equal("FP32", model.Inputs[0].Datatype);
        Assert.Equal([-1L, 2L], model.Inputs[0].Shape);
        Assert.Equal([-1L, 1L], model.Outputs[0].Shape);
    }

    [Fact]
    public async Task Raw_fp32_input_is_answered_with_raw_fp64_output_equal_to_rest()
    {
        var expected = await RestInferAsync();
        var raw = new byte[4 * 4];
        float[] values = [0.5f, 0.5f, 0.9f, 0.2f];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), values[i]);
        }
        var request = new ModelInferRequest { ModelName = "modelservice", Id = "7", Inputs = { Input("FP32", 2) } };
        request.RawInputContents.Add(ByteString.CopyFrom(raw));

        var response = await _grpc.ModelInferAsync(request);

        Assert.Equal("7", response.Id);
        Assert.Equal("modelservice", response.ModelName);
        var output = Assert.Single(response.Outputs);
        Assert.Equal(("output0", "FP64"), (output.Name, output.Datatype));
        Assert.Equal([2L, 1L], output.Shape);
        var bytes = Assert.Single(response.RawOutputContents).ToByteArray();
        Assert.Equal(expected, OipWire.Doubles(bytes));
    }

    [Fact]
    public async Task Typed_fp64_contents_are_answered_with_typed_contents()
    {
        var expected = await RestInferAsync();
        var activeId = (await _rest.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString();
        var input = Input("FP64", 2);
        input.Contents = new InferTensorContents { Fp64Contents = { 0.5f, 0.5f, 0.9f, 0.2f } };

        var response = await _grpc.ModelInferAsync(new ModelInferRequest { ModelName = "modelservice", ModelVersion = activeId, Inputs = { input } });

        Assert.Equal(activeId, response.ModelVersion);
        Assert.Empty(response.RawOutputContents);
        Assert.Equal(expected, Assert.Single(response.Outputs).Contents.Fp64Contents);
    }

    [Theory]
    [InlineData("other", "FP32", 2, 4, StatusCode.NotFound, "'other'")]
    [InlineData("modelservice", "FP32", 3, 6, StatusCode.InvalidArgument, "[N, 2]")]
    [InlineData("modelservice", "FP32", 2, 3, StatusCode.InvalidArgument, "need 4 values")]
    [InlineData("modelservice", "INT8", 2, 4, StatusCode.InvalidArgument, "INT8")]
    public async Task Bad_requests_are_rpc_errors_naming_the_problem(string model, string datatype, int width, int count, StatusCode code,
        string mentioned)
    {
        var input = Input(datatype, width);
        input.Contents = new InferTensorContents { Fp32Contents = { Enumerable.Repeat(0.5f, count) } };

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _grpc.ModelInferAsync(new ModelInferRequest { ModelName = model, Inputs = { input } }).ResponseAsync);

        Assert.Equal(code, error.StatusCode);
        Assert.Contains(mentioned, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Grpc_requests_count_in_the_statistics()
    {
        var activeId = (await _rest.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString();
        var before = await RowsCountedAsync(activeId!);
        var input = Input("FP32", 2);
        input.Contents = new InferTensorContents { Fp32Contents = { 0.5f, 0.5f, 0.1f, 0.1f } };

        await _grpc.ModelInferAsync(new ModelInferRequest { ModelName = "modelservice", Inputs = { input } });

        Assert.Equal(before + 2, await RowsCountedAsync(activeId!));
    }

    internal static GRPCInferenceService.GRPCInferenceServiceClient Connect(ModelServiceFactory factory, string? apiKey = null)
    {
        var channel = GrpcChannel.ForAddress(factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = factory.Server.CreateHandler() });
        var invoker = apiKey is null ? channel.CreateCallInvoker()
            : channel.CreateCallInvoker().Intercept(metadata => { metadata.Add("X-Api-Key", apiKey); return metadata; });
        return new GRPCInferenceService.GRPCInferenceServiceClient(invoker);
    }

    private static ModelInferRequest.Types.InferInputTensor Input(string datatype, int width) =>
        new() { Name = "input0", Datatype = datatype, Shape = { 2, width } };

    private async Task<double[]> RestInferAsync()
    {
        var response = await _rest.PostAsync(new Uri("/v2/models/modelservice/infer", UriKind.Relative),
            ServiceApi.JsonBody("""{"inputs":[{"name":"input0","shape":[2,2],"datatype":"FP32","data":[0.5,0.5,0.9,0.2]}]}"""));
        var answer = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        return [.. answer.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(v => v.GetDouble())];
    }

    private async Task<long> RowsCountedAsync(string version)
    {
        var stats = await _rest.GetJsonAsync($"/v2/models/modelservice/versions/{version}/stats");
        return stats.GetProperty("model_stats")[0].GetProperty("inference_count").GetInt64();
    }
}
