using System.Buffers.Binary;
using System.Buffers;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using ModelService.Api.Errors;
using ModelService.Model.Artifacts;
using ModelService.Model.Inference;

namespace ModelService.Api.Inference.Grpc;

/// <summary>The Open Inference Protocol over gRPC (<c>inference.GRPCInferenceService</c>): the same model name, versions,
/// limits, metrics and statistics as REST. An input sent in <c>raw_input_contents</c> is answered in
/// <c>raw_output_contents</c> (what Triton's client reads), typed contents with typed contents.</summary>
internal sealed class InferenceGrpcService(InferenceServer server) : GRPCInferenceService.GRPCInferenceServiceBase
{
    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = server.IsReady });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ModelReadyResponse { Ready = server.Resolve(request.Name, request.Version) is not null });

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context)
    {
        var metadata = server.Server();
        return Task.FromResult(new ServerMetadataResponse { Name = metadata.Name, Version = metadata.Version, Extensions = { metadata.Extensions } });
    }

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        var model = server.Resolve(request.Name, request.Version)
            ?? throw new RpcException(new Status(StatusCode.NotFound, server.Unknown(request.Name, request.Version)));
        var metadata = server.Metadata(model);
        return Task.FromResult(new ModelMetadataResponse
        {
            Name = metadata.Name,
            Versions = { metadata.Versions },
            Platform = metadata.Platform,
            Inputs = { metadata.Inputs.Select(Tensor) },
            Outputs = { metadata.Outputs.Select(Tensor) },
        });
    }

    public override Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        var model = server.Resolve(request.ModelName, request.ModelVersion)
            ?? throw new RpcException(new Status(StatusCode.NotFound, server.Unknown(request.ModelName, request.ModelVersion)));
        var timer = InferenceStatistics.Start();
        double[]? predictions = null;
        try
        {
            using var input = ReadInput(request, model.Manifest);
            timer.MarkInput();
            predictions = server.Score(model, input, "grpc");
            timer.MarkInfer();
            var response = Answer(request, model, predictions, input);
            server.Statistics.RecordSuccess(model.Manifest.Id, input.RowCount, timer);
            return Task.FromResult(response);
        }
        catch (ApiProblemException e)
        {
            server.Statistics.RecordFailure(model.Manifest.Id, timer);
            var code = e.StatusCode == StatusCodes.Status413PayloadTooLarge ? StatusCode.ResourceExhausted : StatusCode.InvalidArgument;
            throw new RpcException(new Status(code, e.Message));
        }
        finally
        {
            if (predictions is not null)
            {
                ArrayPool<double>.Shared.Return(predictions);
            }
        }
    }

    private InputTensor ReadInput(ModelInferRequest request, ModelManifest model)
    {
        if (request.Inputs.Count != 1)
        {
            throw InferErrors.Bad($"'inputs' must hold exactly one tensor named '{InferTensors.InputName}'.");
        }
        foreach (var output in request.Outputs)
        {
            if (output.Name != InferTensors.OutputName)
            {
                throw InferErrors.Bad($"Unknown output '{output.Name}' requested; this model has one output, '{InferTensors.OutputName}'.");
            }
        }
        var tensor = request.Inputs[0];
        // A value takes at least a byte of the message, raw or typed: the message bounds a tensor model's input.
        TensorLayout? layout = model.TakesTensors
            ? InferTensors.CheckTensorInput(tensor.Name, tensor.Datatype, tensor.Shape, model, server.MaxRows, request.CalculateSize())
            : null;
        var rows = layout?.Count ?? InferTensors.CheckInput(tensor.Name, tensor.Datatype, tensor.Shape, model, server.MaxRows);
        if (request.RawInputContents.Count > 0)
        {
            if (request.RawInputContents.Count != 1 || tensor.Contents is { } typed && !IsEmpty(typed))
            {
                throw InferErrors.Bad("Send the input either in 'raw_input_contents' (one entry) or in 'contents', not both.");
            }
            return layout is { } rawLayout ? InferTensors.FromRawTensor(request.RawInputContents[0].Memory, tensor.Datatype, rawLayout)
                : InferTensors.FromRaw(request.RawInputContents[0].Memory, tensor.Datatype, rows, model);
        }
        if (layout is { } typedLayout)
        {
            return ReadTypedTensor(tensor.Contents ?? new InferTensorContents(), tensor.Datatype, typedLayout);
        }
        var input = new InputTensor(rows, model.Features.Count);
        try
        {
            ReadTyped(tensor.Contents ?? new InferTensorContents(), tensor.Datatype, model, input);
            return input;
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    private static void ReadTyped(InferTensorContents contents, string datatype, ModelManifest model, InputTensor input)
    {
        var values = input.Values;
        var count = datatype switch
        {
            "FP32" => contents.Fp32Contents.Count,
            "FP64" => contents.Fp64Contents.Count,
            _ => contents.BytesContents.Count,
        };
        if (count != values.Length)
        {
            throw InferErrors.Bad($"'{InferTensors.InputName}' has shape [{input.RowCount}, {model.Features.Count}] so its "
                + $"{datatype} contents need {values.Length} values; got {count}.");
        }
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = datatype switch
            {
                "FP32" => InferTensors.Finite(contents.Fp32Contents[i], i, datatype),
                "FP64" => InferTensors.Finite(contents.Fp64Contents[i], i, datatype),
                _ => InferTensors.FromText(Text(contents.BytesContents[i], i), FeatureTransformInfo.Of(model, i % model.Features.Count)),
            };
        }
    }

    private static InputTensor ReadTypedTensor(InferTensorContents contents, string datatype, TensorLayout layout)
    {
        var input = InputTensor.ForTensor(layout);
        try
        {
            var values = input.Floats;
            var count = datatype == "FP32" ? contents.Fp32Contents.Count : contents.Fp64Contents.Count;
            if (count != values.Length)
            {
                throw InferErrors.Bad($"'{InferTensors.InputName}' has shape [{layout.Count}, {layout.Height}, {layout.Width}, "
                    + $"{layout.Channels}] so its {datatype} contents need {values.Length} values; got {count}.");
            }
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = InferTensors.FiniteFloat(datatype == "FP32" ? contents.Fp32Contents[i] : contents.Fp64Contents[i], i, datatype);
            }
            return input;
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    private static string Text(ByteString bytes, int index)
    {
        try
        {
            return bytes.ToStringUtf8();
        }
        catch (ArgumentException)
        {
            throw InferErrors.Bad($"Element {index} of '{InferTensors.InputName}' is not valid UTF-8.");
        }
    }

    private ModelInferResponse Answer(ModelInferRequest request, Predictor model, double[] predictions, InputTensor input)
    {
        var rows = input.OutputCount;
        var output = new ModelInferResponse.Types.InferOutputTensor
        {
            Name = InferTensors.OutputName, Datatype = "FP64", Shape = { input.OutputShape },
        };
        var response = new ModelInferResponse
        {
            ModelName = server.ModelName,
            ModelVersion = model.Manifest.Id,
            Id = request.Id,
            Outputs = { output },
        };
        if (request.RawInputContents.Count > 0)
        {
            response.RawOutputContents.Add(LittleEndian(predictions.AsSpan(0, rows)));
        }
        else
        {
            output.Contents = new InferTensorContents { Fp64Contents = { new ArraySegment<double>(predictions, 0, rows) } };
        }
        return response;
    }

    private static ByteString LittleEndian(ReadOnlySpan<double> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            return ByteString.CopyFrom(MemoryMarshal.AsBytes(values));
        }
        var raw = new byte[values.Length * sizeof(double)];
        for (var r = 0; r < values.Length; r++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(raw.AsSpan(r * sizeof(double)), values[r]);
        }
        return UnsafeByteOperations.UnsafeWrap(raw);
    }

    private static bool IsEmpty(InferTensorContents contents) =>
        contents.Fp32Contents.Count == 0 && contents.Fp64Contents.Count == 0 && contents.BytesContents.Count == 0
        && contents.IntContents.Count == 0 && contents.Int64Contents.Count == 0 && contents.BoolContents.Count == 0
        && contents.UintContents.Count == 0 && contents.Uint64Contents.Count == 0;

    private static ModelMetadataResponse.Types.TensorMetadata Tensor(TensorMetadata tensor) =>
        new() { Name = tensor.Name, Datatype = tensor.Datatype, Shape = { tensor.Shape } };
}
