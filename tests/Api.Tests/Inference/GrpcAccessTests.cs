using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using ModelService.Api.Inference.Grpc;

namespace ModelService.Api.Tests.Inference;

/// <summary>gRPC takes the same X-Api-Key (as metadata) and limits as REST, and offers server reflection.</summary>
public sealed class GrpcAccessTests
{
    [Fact]
    public async Task When_reads_need_a_key_grpc_calls_without_it_are_unauthenticated_and_with_it_succeed()
    {
        using var factory = new ModelServiceFactory(new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0"] = ModelServiceFactory.ApiKey,
            ["Auth:RequireKeyForReads"] = "true",
        });

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            GrpcInferenceTests.Connect(factory).ServerMetadataAsync(new ServerMetadataRequest()).ResponseAsync);
        var wrongKey = await Assert.ThrowsAsync<RpcException>(() =>
            GrpcInferenceTests.Connect(factory, "not-the-key-0123456789").ServerMetadataAsync(new ServerMetadataRequest()).ResponseAsync);
        var metadata = await GrpcInferenceTests.Connect(factory, ModelServiceFactory.ApiKey).ServerMetadataAsync(new ServerMetadataRequest());

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, wrongKey.StatusCode);
        Assert.Equal("modelservice", metadata.Name);
    }

    [Fact]
    public async Task A_message_over_the_body_limit_and_rows_over_the_row_limit_are_refused()
    {
        using var factory = new ModelServiceFactory(new Dictionary<string, string?>
        {
            ["Limits:MaxRequestBodyBytes"] = "4096",
            ["Predictions:MaxRows"] = "100",
        });
        var grpc = GrpcInferenceTests.Connect(factory);
        ModelInferRequest Rows(int rows)
        {
            var request = new ModelInferRequest
            {
                ModelName = "modelservice",
                Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input0", Datatype = "FP32", Shape = { rows, 2 } } },
            };
            request.RawInputContents.Add(Google.Protobuf.ByteString.CopyFrom(new byte[rows * 8]));
            return request;
        }

        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => grpc.ModelInferAsync(Rows(1000)).ResponseAsync);
        var tooManyRows = await Assert.ThrowsAsync<RpcException>(() => grpc.ModelInferAsync(Rows(101)).ResponseAsync);
        var fits = await grpc.ModelInferAsync(Rows(100));

        Assert.Equal(StatusCode.ResourceExhausted, tooLarge.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, tooManyRows.StatusCode);
        Assert.Contains("Predictions:MaxRows", tooManyRows.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(800, Assert.Single(fits.RawOutputContents).Length);
    }

    [Fact]
    public async Task Server_reflection_lists_the_inference_service()
    {
        using var factory = new ModelServiceFactory();
        var channel = GrpcChannel.ForAddress(factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = factory.Server.CreateHandler() });
        var reflection = new ServerReflection.ServerReflectionClient(channel);

        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name);

        Assert.Contains("inference.GRPCInferenceService", services);
    }
}
