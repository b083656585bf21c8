using System.ComponentModel.DataAnnotations;

namespace ModelService.Api.Training;

/// <summary>What to train. Only <see cref="DatasetId"/> and <see cref="Target"/> are required; a stored job holds the
/// request with every default filled in.</summary>
internal sealed record TrainingRequest
{
    [Required]
    public string? DatasetId { get; init; }

    [Required]
    public string? Target { get; init; }

    public IReadOnlyList<string>? Features { get; init; }

    public IReadOnlyList<int>? HiddenChannels { get; init; }

    public string? Activation { get; init; }

    public double? Dropout { get; init; }

    public bool? BatchNorm { get; init; }

    public int? Epochs { get; init; }

    public int? BatchSize { get; init; }

    public double? LearningRate { get; init; }

    public string? Optimizer { get; init; }

    public double? WeightDecay { get; init; }

    public double? ValidationFraction { get; init; }

    public int? EarlyStoppingPatience { get; init; }

    public int? Seed { get; init; }

    public bool? Activate { get; init; }
}

internal static class JobStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static IReadOnlyList<string> All { get; } = [Queued, Running, Succeeded, Failed, Cancelled];

    public static bool IsFinished(string status) => status is Succeeded or Failed or Cancelled;
}

/// <summary>A job as the API shows it. <see cref="Attempts"/> counts the times a worker started it (a job whose worker
/// died is started again, up to Training:MaxAttempts); <see cref="Worker"/> is the instance that ran the latest
/// attempt (Cluster:InstanceName).</summary>
internal sealed record TrainingJob(
    string Id,
    string Status,
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
