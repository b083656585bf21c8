using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using ModelService.Api.Json;
using ModelService.Model.Network;
using ModelService.Model.Serialization;
using ModelService.Model.Training;

namespace ModelService.Api.Training;

/// <summary>What to train. Only <see cref="DatasetId"/> is always required, and <see cref="Target"/> for a table dataset;
/// everything else starts at the model library's defaults (<see cref="NetworkOptions.Default"/>,
/// <see cref="Model.Training.TrainingOptions.Default"/>), so the OpenAPI document, the stored request and the trainer read
/// the same values. Ranges are checked by minimal-API validation; the rules that need the dataset or the configured limits
/// (a table's target among them) are in <see cref="TrainingRequestValidator"/>. A stored job holds the request with
/// <see cref="Features"/> (for a table) and <see cref="Head"/> filled in.</summary>
// Public because .NET 10's validation generator only picks up public types.
[NullMeansDefault]
public sealed record TrainingRequest : IValidatableObject
{
    [Required(ErrorMessage = "'datasetId' is required.")]
    [RegularExpression(Storage.Ids.DatasetIdPattern, ErrorMessage = "'datasetId' is not a dataset id.")]
    public string? DatasetId { get; set; }

    /// <summary>The numeric column to predict; required for a table dataset, left out for a tensor dataset (whose target
    /// is its y).</summary>
    public string? Target { get; set; }

    /// <summary>Feature columns in model order; null means every column but the target. Left out for a tensor dataset
    /// (whose inputs are its x).</summary>
    [MinLength(1, ErrorMessage = "At least one feature is needed.")]
    public IReadOnlyList<string>? Features { get; set; }

    /// <summary>What follows the hidden layers: flatten-dense (one prediction per sample; the only head for a table) or
    /// per-position (a prediction per position, for a tensor dataset whose target has one). Null takes the one the
    /// dataset's target asks for.</summary>
    public Head? Head { get; set; }

    [Length(1, TrainingLimits.MaxHiddenLayers, ErrorMessage = "Give between {1} and {2} hidden layers.")]
    public IReadOnlyList<int> HiddenChannels { get; set; } = NetworkOptions.Default.HiddenChannels;

    public Activation Activation { get; set; } = NetworkOptions.Default.Activation;

    [Range(0.0, 1.0, MaximumIsExclusive = true, ErrorMessage = "'dropout' must be in [{1}, {2}).")]
    public double Dropout { get; set; } = NetworkOptions.Default.Dropout;

    public bool BatchNorm { get; set; } = NetworkOptions.Default.BatchNorm;

    /// <summary>At least 1; the upper bound is configured (Training:MaxEpochs) and checked with the dataset rules.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "'epochs' must be at least {1}.")]
    public int Epochs { get; set; } = Model.Training.TrainingOptions.Default.Epochs;

    [Range(1, TrainingLimits.MaxBatchSize, ErrorMessage = "'batchSize' must be between {1} and {2}.")]
    public int BatchSize { get; set; } = Model.Training.TrainingOptions.Default.BatchSize;

    [Range(0.0, TrainingLimits.MaxLearningRate, MinimumIsExclusive = true, ErrorMessage = "'learningRate' must be in ({1}, {2}].")]
    public double LearningRate { get; set; } = Model.Training.TrainingOptions.Default.LearningRate;

    public OptimizerKind Optimizer { get; set; } = Model.Training.TrainingOptions.Default.Optimizer;

    /// <summary>constant, or cosine: the learning rate annealed over the run's steps towards zero.</summary>
    public LearningRateSchedule LearningRateSchedule { get; set; } = Model.Training.TrainingOptions.Default.LearningRateSchedule;

    [Range(0.0, 1.0, ErrorMessage = "'weightDecay' must be in [{1}, {2}].")]
    public double WeightDecay { get; set; } = Model.Training.TrainingOptions.Default.WeightDecay;

    [Range(0.0, TrainingLimits.MaxValidationFraction, ErrorMessage = "'validationFraction' must be in [{1}, {2}].")]
    public double ValidationFraction { get; set; } = Model.Training.TrainingOptions.Default.ValidationFraction;

    [Range(1, int.MaxValue, ErrorMessage = "'earlyStoppingPatience' must be at least {1}, or null to train every epoch.")]
    public int? EarlyStoppingPatience { get; set; } = Model.Training.TrainingOptions.Default.EarlyStoppingPatience;

    public int Seed { get; set; } = Model.Training.TrainingOptions.Default.Seed;

    /// <summary>Whether the finished model becomes the active one.</summary>
    public bool Activate { get; set; } = true;

    /// <summary>Each hidden width in range, reported by its index (an attribute names only the whole list).</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var hidden = HiddenChannels;
        for (var i = 0; i < hidden.Count; i++)
        {
            if (hidden[i] is < 1 or > TrainingLimits.MaxLayerWidth)
            {
                yield return new ValidationResult(
                    $"A hidden layer has between 1 and {TrainingLimits.MaxLayerWidth} channels; got {hidden[i]}.", [$"hiddenChannels[{i}]"]);
            }
        }
    }

    /// <summary>The model library's view of the request's network (its head still null when left out).</summary>
    public NetworkOptions ToNetworkOptions() => new(HiddenChannels, Activation, Dropout, BatchNorm, Head);

    /// <summary>The model library's view of a validated request (a tensor request has no target or features: the data's
    /// y and x are).</summary>
    public TrainingRequestSpec ToSpec(int threads) => new(
        Target ?? "",
        Features ?? [],
        ToNetworkOptions(),
        new Model.Training.TrainingOptions
        {
            Epochs = Epochs,
            BatchSize = BatchSize,
            LearningRate = LearningRate,
            Optimizer = Optimizer,
            LearningRateSchedule = LearningRateSchedule,
            WeightDecay = WeightDecay,
            ValidationFraction = ValidationFraction,
            EarlyStoppingPatience = EarlyStoppingPatience,
            Seed = Seed,
            Threads = threads,
        });
}

/// <summary>Request limits that are the same for every deployment (the configured ones are in
/// <see cref="TrainingQueueOptions"/>); model import obeys them too.</summary>
internal static class TrainingLimits
{
    public const int MaxHiddenLayers = 16;
    public const int MaxLayerWidth = 4096;
    public const int MaxBatchSize = 65_536;
    public const double MaxLearningRate = 10;
    public const double MaxValidationFraction = 0.9;
}

/// <summary>Where a job is in its life; stored and sent as the wire names.</summary>
[JsonConverter(typeof(WireEnumConverter<JobStatus>))]
internal enum JobStatus
{
    [JsonStringEnumMemberName("queued")]
    Queued,

    [JsonStringEnumMemberName("running")]
    Running,

    [JsonStringEnumMemberName("succeeded")]
    Succeeded,

    [JsonStringEnumMemberName("failed")]
    Failed,

    [JsonStringEnumMemberName("cancelled")]
    Cancelled,
}

internal static class JobStatuses
{
    public static bool IsFinished(this JobStatus status) => status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
}

/// <summary>A job as the API shows it. <see cref="Attempts"/> counts the times a worker started it (a job whose worker
/// died is started again, up to Training:MaxAttempts); <see cref="Worker"/> is the instance that ran the latest
/// attempt (Cluster:InstanceName).</summary>
internal sealed record TrainingJob(
    string Id,
    JobStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    TrainingRequest Request,
    JobProgress Progress,
    IReadOnlyList<EpochLoss> History,
    string? ModelId,
    string? Error,
    int Attempts,
    string? Worker);

/// <summary>The latest finished epoch (0 before the first one ends).</summary>
internal sealed record JobProgress(int Epoch, int Epochs, double? TrainLoss, double? ValidationLoss);

internal sealed record EpochLoss(int Epoch, double TrainLoss, double? ValidationLoss);
