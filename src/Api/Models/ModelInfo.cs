using System.Text.Json.Serialization;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Network;
using ModelService.Model.Serialization;
using ModelService.Model.Training;

namespace ModelService.Api.Models;

/// <summary>A stored model as the API shows it. An unloadable artifact has status "invalid", an error, and no
/// details. A tensor model (<see cref="InputKind"/> tensor) has the target "y", one feature per channel ("channel_0", ...)
/// with its standardisation, and a <see cref="TargetShape"/>: [] for one value per sample, [H, W] for one per position.</summary>
internal sealed record ModelInfo(
    string Id,
    DateTimeOffset CreatedAt,
    bool Active,
    ModelStatus Status,
    string? Error,
    string? TrainingJobId,
    string? DatasetId,
    InputKind? InputKind,
    string? Target,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<int>? TargetShape,
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
                null, null, null, null, null, null, null, null, null, null, null);
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
            m.InputKind,
            m.Target,
            m.TargetShape,
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

/// <summary>The network: the input shape it was trained on ([1, 1, encoded features] for a table; a per-position
/// model takes any H and W), its head, each layer's parameters and how many of them grow with H x W (only a flatten-dense
/// head's dense weights).</summary>
internal sealed record ArchitectureInfo(
    IReadOnlyList<int> InputShape,
    Head Head,
    IReadOnlyList<LayerInfo> Layers,
    long ParameterCount,
    long PositionDependentParameterCount,
    Activation Activation,
    double Dropout,
    bool BatchNorm)
{
    public static ArchitectureInfo From(NetworkSpec n) =>
        new([n.Height, n.Width, n.InputChannels], n.Head, n.Layers, n.ParameterCount, n.PositionDependentParameterCount, n.Activation,
            n.Dropout, n.BatchNorm);
}

internal sealed record TrainingInfo(
    int Epochs,
    int EpochsRequested,
    int BatchSize,
    double LearningRate,
    OptimizerKind Optimizer,
    LearningRateSchedule LearningRateSchedule,
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
        new(t.Epochs, t.EpochsRequested, t.BatchSize, t.LearningRate, t.Optimizer, t.LearningRateSchedule, t.WeightDecay, t.Seed,
            t.ValidationFraction, t.EarlyStoppingPatience, t.BestEpoch, t.DurationSeconds, t.TrainRows, t.ValidationRows, t.DroppedRows);
}

/// <summary>Quality in the target's own units; validation is null when the job trained on every row.</summary>
internal sealed record MetricsInfo(RegressionMetrics Train, RegressionMetrics? Validation);
