using System.Text.Json.Serialization;
using ModelService.Model.Data;
using ModelService.Model.Network;
using ModelService.Model.Preprocessing;
using ModelService.Model.Training;

namespace ModelService.Model.Artifacts;

/// <summary>The human-readable description of a trained model, stored as manifest.json (camelCase).</summary>
public sealed record ModelManifest
{
    /// <summary>The artifact format this library writes.</summary>
    public const string CurrentFormatVersion = "1";

    /// <summary>Artifact format version.</summary>
    public string FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>Model id (opaque).</summary>
    public required string Id { get; init; }

    /// <summary>When training finished.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Target column name ("y" for a tensor model).</summary>
    public required string Target { get; init; }

    /// <summary>What the model takes: table rows (also what a manifest without the field describes) or tensor samples
    /// [H, W, C], whose shape is the network's.</summary>
    public InputKind InputKind { get; init; } = InputKind.Table;

    /// <summary>A tensor model's target per sample as trained: [] (one value) or [Height, Width] (one value per position);
    /// null for a table model.</summary>
    public IReadOnlyList<int>? TargetShape { get; init; }

    /// <summary>Features in model order with their fitted preprocessing; for a tensor model, one numeric feature per
    /// channel ("channel_0", ...): the per-channel standardisation.</summary>
    public required IReadOnlyList<FeatureTransform> Features { get; init; }

    /// <summary>Standardisation of the target.</summary>
    public required TargetScaling TargetScaling { get; init; }

    /// <summary>Network architecture (its layers and parameter count are derived from it).</summary>
    public required NetworkSpec Network { get; init; }

    /// <summary>The tensors stored in weights.bin, in file order.</summary>
    public required IReadOnlyList<TensorEntry> Tensors { get; init; }

    /// <summary>Training settings and history.</summary>
    public required TrainingSummary Training { get; init; }

    /// <summary>Quality in target units.</summary>
    public required ModelMetrics Metrics { get; init; }

    /// <summary>Versions of the libraries that produced the model (ModelService.Model, TorchSharp, LibTorch, .NET).</summary>
    public required IReadOnlyDictionary<string, string> LibraryVersions { get; init; }

    /// <summary>Lower-case hex SHA-256 of weights.bin.</summary>
    public required string WeightsSha256 { get; init; }

    /// <summary>Free-form labels (e.g. the data set and training job a model came from).</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>True when the model takes tensor samples [H, W, C] rather than table rows.</summary>
    [JsonIgnore]
    public bool TakesTensors => InputKind == InputKind.Tensor;

    /// <summary>True when the model predicts one value per position (per-position head); it then takes any H and W.</summary>
    [JsonIgnore]
    public bool PerPosition => Network.Head == Head.PerPosition;

    /// <summary>One sample's input shape as trained, [Height, Width, Channels] ([1, 1, encoded features] for a table
    /// model). A per-position model takes any Height and Width; a flatten-dense one only these.</summary>
    [JsonIgnore]
    public IReadOnlyList<int> InputShape => [Network.Height, Network.Width, Network.InputChannels];

    /// <summary>Whether the model takes samples of <paramref name="height"/> x <paramref name="width"/> x
    /// <paramref name="channels"/>: its channels, at any height and width for a per-position model, at the trained ones for
    /// a flatten-dense model.</summary>
    public bool Takes(long height, long width, long channels) =>
        channels == Network.InputChannels && (PerPosition || (height == Network.Height && width == Network.Width));

    /// <summary>One sample's output shape for an input of <paramref name="height"/> x <paramref name="width"/>: [] for one
    /// value, [height, width] for a per-position model.</summary>
    public IReadOnlyList<int> OutputShape(int height, int width) => PerPosition ? [height, width] : [];
}

/// <summary>Name and shape of one tensor in weights.bin.</summary>
/// <param name="Name">Tensor name, e.g. "hidden.0.weight".</param>
/// <param name="Shape">Dimensions; the tensor holds their product float32 values.</param>
public sealed record TensorEntry(string Name, IReadOnlyList<int> Shape);

/// <summary>One tensor's values in row-major order.</summary>
/// <param name="Name">Tensor name, e.g. "hidden.0.weight".</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Values">Row-major values; length is the product of <paramref name="Shape"/>.</param>
public sealed record NamedTensorData(string Name, IReadOnlyList<int> Shape, float[] Values);

/// <summary>How a model was trained.</summary>
public sealed record TrainingSummary
{
    /// <summary>Epochs actually run (fewer than requested when early stopping triggered).</summary>
    public required int Epochs { get; init; }

    /// <summary>Epochs requested.</summary>
    public required int EpochsRequested { get; init; }

    /// <summary>Rows per optimiser step.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Learning rate.</summary>
    public required double LearningRate { get; init; }

    /// <summary>Optimiser.</summary>
    public required OptimizerKind Optimizer { get; init; }

    /// <summary>How the learning rate moved over the steps (constant in manifests written before the choice existed).</summary>
    public LearningRateSchedule LearningRateSchedule { get; init; }

    /// <summary>Weight decay.</summary>
    public required double WeightDecay { get; init; }

    /// <summary>Seed.</summary>
    public required int Seed { get; init; }

    /// <summary>Share of rows held out for validation.</summary>
    public required double ValidationFraction { get; init; }

    /// <summary>Early-stopping patience; null when off.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>The epoch whose weights the model holds.</summary>
    public required int BestEpoch { get; init; }

    /// <summary>Wall-clock training time.</summary>
    public required double DurationSeconds { get; init; }

    /// <summary>Rows used for training.</summary>
    public required int TrainRows { get; init; }

    /// <summary>Rows used for validation.</summary>
    public required int ValidationRows { get; init; }

    /// <summary>Rows left out because their target was missing.</summary>
    public required int DroppedRows { get; init; }

    /// <summary>Loss per epoch.</summary>
    public required IReadOnlyList<EpochRecord> History { get; init; }
}

/// <summary>Losses of one epoch (mean squared error on the standardised target).</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainLoss">Training loss.</param>
/// <param name="ValidationLoss">Validation loss; null without a validation split.</param>
public sealed record EpochRecord(int Epoch, double TrainLoss, double? ValidationLoss);

/// <summary>Quality on the training and validation rows, in target units.</summary>
/// <param name="Train">On the training rows.</param>
/// <param name="Validation">On the validation rows; null without a validation split.</param>
public sealed record ModelMetrics(RegressionMetrics Train, RegressionMetrics? Validation);
