using System.Buffers;
using System.Reflection;
using Microsoft.Extensions.Options;
using ModelService.Api.Errors;
using ModelService.Api.Storage;
using ModelService.Api.Models;
using ModelService.Api.Predictions;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Inference;

namespace ModelService.Api.Inference;

/// <summary>What the protocol's REST and gRPC faces share: the served model name (Inference:ModelName) and its versions
/// (model ids, the unversioned name meaning the active model), metadata, scoring, metrics and statistics.</summary>
internal sealed class InferenceServer(
    ModelRegistry registry, IOptions<InferenceOptions> options, IOptions<PredictionOptions> predictions, PredictionMetrics metrics,
    InferenceStatistics statistics, ParallelScoring scoring)
{
    public const string Platform = "modelservice_conv1x1_mlp";

    /// <summary>The protocol extensions this server implements, as listed in the server metadata.</summary>
    public static readonly IReadOnlyList<string> Extensions = ["binary_tensor_data", "model_configuration", "statistics",
        "model_repository"];

    private static readonly string Version =
        (typeof(InferenceServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown")
            .Split('+')[0];

    public string ModelName => options.Value.ModelName;

    public int MaxRows => predictions.Value.MaxRows;

    public ModelRegistry Registry => registry;

    public InferenceStatistics Statistics => statistics;

    public bool IsReady => registry.Active is not null;

    public ServerMetadata Server() => new(ModelName, Version, Extensions);

    /// <summary>The active model, or the version named; null when the name or version is unknown or unusable.</summary>
    public Predictor? Resolve(string name, string? version)
    {
        if (!string.Equals(name, ModelName, StringComparison.Ordinal))
        {
            return null;
        }
        if (string.IsNullOrEmpty(version))
        {
            return registry.Active;
        }
        if (!Ids.IsModelId(version))
        {
            return null;
        }
        try
        {
            return registry.GetPredictor(version);
        }
        catch (InvalidModelArtifactException)
        {
            return null;
        }
    }

    public string Unknown(string name, string? version) =>
        !string.Equals(name, ModelName, StringComparison.Ordinal)
            ? $"Unknown model '{name}'; this server serves '{ModelName}'."
            : string.IsNullOrEmpty(version) ? "No model is loaded yet." : $"Model '{name}' has no usable version '{version}'.";

    public ModelMetadata Metadata(Predictor model)
    {
        var versions = registry.List().Where(e => e.IsValid).Select(e => e.Id).ToList();
        return new ModelMetadata(ModelName, versions, Platform,
            [new TensorMetadata(InferTensors.InputName, InputDatatype(model.Manifest), [-1, .. InputDims(model.Manifest)])],
            [new TensorMetadata(InferTensors.OutputName, "FP64", [-1, .. OutputDims(model.Manifest)])]);
    }

    public static string InputDatatype(ModelManifest model) => InferTensors.HasCategorical(model) ? "BYTES" : "FP32";

    /// <summary>One row's input dimensions (the batch dimension left out): [F] for a table model, [H, W, C] for a tensor
    /// model, -1 for H and W of a per-position one, which takes any.</summary>
    public static IReadOnlyList<long> InputDims(ModelManifest model) =>
        !model.TakesTensors ? [model.Features.Count]
            : model.PerPosition ? [-1, -1, model.InputShape[2]]
            : [model.InputShape[0], model.InputShape[1], model.InputShape[2]];

    /// <summary>One row's output dimensions: [1], or [H, W] (as -1, -1: the input's) for a per-position model.</summary>
    public static IReadOnlyList<long> OutputDims(ModelManifest model) => model.PerPosition ? [-1, -1] : [1];

    /// <summary>A model_name or model_version in the body must agree with the route (or the gRPC request's names).</summary>
    public static void CheckNames(string? bodyName, string? bodyVersion, string name, Predictor model)
    {
        if (!string.IsNullOrEmpty(bodyName) && !string.Equals(bodyName, name, StringComparison.Ordinal))
        {
            throw InferErrors.Bad($"'model_name' in the body is '{bodyName}', but the request is for model '{name}'.");
        }
        if (!string.IsNullOrEmpty(bodyVersion) && !string.Equals(bodyVersion, model.Manifest.Id, StringComparison.Ordinal))
        {
            throw InferErrors.Bad($"'model_version' in the body is '{bodyVersion}', but the request is served by version "
                + $"'{model.Manifest.Id}'.");
        }
    }

    /// <summary>Scores <paramref name="input"/> into a pooled array of <see cref="InputTensor.OutputCount"/> predictions
    /// (return it to <see cref="ArrayPool{T}.Shared"/>); large inputs are scored in slices by <see cref="ParallelScoring"/>.</summary>
    public double[] Score(Predictor model, InputTensor input, string api)
    {
        var rows = input.RowCount;
        var per = input.OutputsPerRow;
        var predictions = ArrayPool<double>.Shared.Rent(input.OutputCount);
        try
        {
            scoring.Slices(rows, input.PositionsPerRow,
                (start, count) => input.Predict(model, start, count, predictions.AsSpan(start * per, count * per)));
        }
        catch (ArgumentException e)
        {
            ArrayPool<double>.Shared.Return(predictions);
            throw InferErrors.Bad(e.Message);
        }
        // An FP64 tensor has no null; v1 answers null for such a row, v2 (REST and gRPC) refuses the request and names the row.
        if (predictions.AsSpan(0, input.OutputCount).IndexOfAnyExceptInRange(double.MinValue, double.MaxValue) is var index and >= 0)
        {
            ArrayPool<double>.Shared.Return(predictions);
            throw new ApiProblemException(StatusCodes.Status422UnprocessableEntity, "Unprocessable input", $"The prediction for row "
                + $"{index / per} is not a finite number (an input far outside the training data overflows the network).");
        }
        metrics.RecordPredictedRows(rows, api);
        return predictions;
    }
}
