using System.Text.Json.Serialization;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Network;
using ModelService.Model.Serialization;
using ModelService.Model.Training;

namespace ModelService.Api.Models;

/// <summary>A stored model as the API shows it. An unloadable artifact has status "invalid", an error, and no
/// details.</summary>
internal sealed record ModelInfo(
    string Id,
    DateTimeOffset CreatedAt,
    bool Active,
    ModelStatus Status,
    string? Error,
    string? TrainingJobId,
    string? DatasetId,
    string? Target,
    IReadOnlyList<FeatureInfo>? Features,
    ArchitectureInfo? Architecture,
    TrainingInfo? Training,
    MetricsInfo? Metrics,
    IReadOnlyDictionary<string, string>? Tags,
    IReadOnlyDictionary<string, string>? LibraryVersions)
{
    public static ModelInfo From(ModelEntry entry, string? activeId)
    {
        if (entry.Manifest is not { } m)
        {
            return new ModelInfo(entry.Id, entry.CreatedAt, false, ModelStatus.Invalid, entry.Error,
                null, null, null, null, null, null, null, null, null);
        }
        string? Tag(string key) => m.Tags is { } tags && tags.TryGetValue(key, out var value) ? value : null;
        return new ModelInfo(
            m.Id,
            m.CreatedAt,
            m.Id == activeId,
            ModelStatus.Ready,
            null,
            Tag(ModelTags.TrainingJobId),
            Tag(ModelTags.DatasetId),
            m.Target,
            [.. m.Features.Select(FeatureInfo.From)],
            ArchitectureInfo.From(m.Network),
            TrainingInfo.From(m.Training),
            new MetricsInfo(m.Metrics.Train, m.Metrics.Validation),
            m.Tags,
            m.LibraryVersions);
    }
}

/// <summary>Whether a stored model can serve; stored nowhere, sent as the wire names.</summary>
[JsonConverter(typeof(WireEnumConverter<ModelStatus>))]
internal enum ModelStatus
{
    [JsonStringEnumMemberName("ready")]
    Ready,

    [JsonStringEnumMemberName("invalid")]
    Invalid,
}

internal static class ModelTags
{
    public const string DatasetId = "datasetId";
    public const string TrainingJobId = "trainingJobId";
    public const string Source = "source";
}

/// <summary>A feature and the preprocessing fitted in training: numeric ones are imputed with the median then
/// standardised; categorical ones are one-hot encoded over <see cref="Categories"/>, missing values taking the mode.</summary>
internal sealed record FeatureInfo(
    string Name,
    ColumnType Type,
    double? ImputeValue,
    double? Mean,
    double? Std,
    IReadOnlyList<string>? Categories,
    string? ImputeCategory)
{
    public static FeatureInfo From(Model.Preprocessing.FeatureTransform f) =>
        new(f.Name, f.Type, f.ImputeValue, f.Mean, f.Std, f.Categories, f.ImputeCategory);
}

internal sealed record ArchitectureInfo(
    IReadOnlyList<int> InputShape,
    IReadOnlyList<LayerInfo> Layers,
    long ParameterCount,
    Activation Activation,
    double Dropout,
    bool BatchNorm)
{
    public static ArchitectureInfo From(NetworkSpec n) =>
        new([n.Height, n.Width, n.InputChannels], n.Layers, n.ParameterCount, n.Activation, n.Dropout, n.BatchNorm);
}

internal sealed record TrainingInfo(
    int Epochs,
    int EpochsRequested,
    int BatchSize,
    double LearningRate,
    OptimizerKind Optimizer,
    double WeightDecay,
    int Seed,
    double ValidationFraction,
    int? EarlyStoppingPatience,
    int BestEpoch,
    double DurationSeconds,
    int TrainRows,
    int ValidationRows,
    int DroppedRows)
{
    public static TrainingInfo From(TrainingSummary t) =>
        new(t.Epochs, t.EpochsRequested, t.BatchSize, t.LearningRate, t.Optimizer, t.WeightDecay, t.Seed,
            t.ValidationFraction, t.EarlyStoppingPatience, t.BestEpoch, t.DurationSeconds, t.TrainRows, t.ValidationRows, t.DroppedRows);
}

/// <summary>Quality in the target's own units; validation is null when the job trained on every row.</summary>
internal sealed record MetricsInfo(RegressionMetrics Train, RegressionMetrics? Validation);
