using System.Diagnostics;
using System.Reflection;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Network;
using ModelService.Model.Preprocessing;
using TorchSharp;

namespace ModelService.Model.Training;

/// <summary>Trains a 1x1-convolution regressor on a table.</summary>
public static class Trainer
{
    /// <summary>
    /// Trains deterministically for <see cref="TrainingOptions.Seed"/>: drops rows whose target is missing, splits the rest
    /// (shuffled by the seed) into training and validation rows, fits the preprocessing on the training rows only and
    /// minimises the mean squared error on the standardised target. Calls <paramref name="onEpoch"/> after each epoch.
    /// Sets LibTorch's process-wide thread count to <see cref="TrainingOptions.Threads"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The spec does not fit the table or an option is out of range.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled; checked before every batch.</exception>
    /// <exception cref="InvalidOperationException">The loss stopped being a finite number (training diverged).</exception>
    public static TrainedModel Train(DataTable data, TrainingRequestSpec spec, Action<EpochProgress>? onEpoch, CancellationToken ct) =>
        Train(data, spec, onEpoch, onBatch: null, ct);

    /// <summary>As <see cref="Train(DataTable, TrainingRequestSpec, Action{EpochProgress}?, CancellationToken)"/>, and calls
    /// <paramref name="onBatch"/> after every optimiser step with the number of steps taken so far.</summary>
    public static TrainedModel Train(
        DataTable data, TrainingRequestSpec spec, Action<EpochProgress>? onEpoch, Action<int>? onBatch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(spec);
        Validate(data, spec);
        ct.ThrowIfCancellationRequested();
        var options = spec.Options;
        var clock = Stopwatch.StartNew();
        torch.set_num_threads(options.Threads);

        using var generator = new torch.Generator(unchecked((ulong)options.Seed));
        var split = DataSplit.Create(data, spec, generator);
        var preprocessor = Preprocessor.Fit(data, split.TrainRows, spec.Target, spec.Features);
        var encoded = EncodedSplit.Create(data, split, preprocessor);
        var network = new NetworkSpec(1, 1, preprocessor.InputWidth, spec.Network.HiddenChannels.ToArray(),
            spec.Network.Activation, spec.Network.Dropout, spec.Network.BatchNorm);

        using var module = new ConvRegressor(network, generator);
        var outcome = TrainingLoop.Run(module, encoded, options, generator, onEpoch, onBatch, ct);
        var metrics = new ModelMetrics(
            Evaluate(module, preprocessor, encoded.TrainInputs, encoded.TrainRawTargets),
            encoded.ValidationRows == 0 ? null : Evaluate(module, preprocessor, encoded.ValidationInputs, encoded.ValidationRawTargets));
        clock.Stop();

        var manifest = new ModelManifest
        {
            Id = Guid.NewGuid().ToString("N"),
            CreatedAt = DateTimeOffset.UtcNow,
            Target = spec.Target,
            Features = preprocessor.Features,
            TargetScaling = preprocessor.Target,
            Network = network,
            Tensors = outcome.Weights.Select(w => new TensorEntry(w.Name, w.Shape)).ToArray(),
            Training = new TrainingSummary
            {
                Epochs = outcome.History.Count,
                EpochsRequested = options.Epochs,
                BatchSize = options.BatchSize,
                LearningRate = options.LearningRate,
                Optimizer = options.Optimizer,
                WeightDecay = options.WeightDecay,
                Seed = options.Seed,
                ValidationFraction = options.ValidationFraction,
                EarlyStoppingPatience = options.EarlyStoppingPatience,
                BestEpoch = outcome.BestEpoch,
                DurationSeconds = clock.Elapsed.TotalSeconds,
                TrainRows = split.TrainRows.Length,
                ValidationRows = split.ValidationRows.Length,
                DroppedRows = split.DroppedRows,
                History = outcome.History,
            },
            Metrics = metrics,
            LibraryVersions = LibraryVersions(),
            WeightsSha256 = WeightsFile.Sha256(outcome.Weights),
        };
        return new TrainedModel(manifest, outcome.Weights);
    }

    private static RegressionMetrics Evaluate(ConvRegressor module, Preprocessor preprocessor, float[] inputs, double[] targets)
    {
        var outputs = TrainingLoop.Predict(module, inputs, targets.Length, preprocessor.InputWidth);
        var predictions = outputs.Select(z => preprocessor.UnscaleTarget(z)).ToArray();
        return Metrics.Compute(predictions, targets);
    }

    private static Dictionary<string, string> LibraryVersions() => new(StringComparer.Ordinal)
    {
        ["ModelService.Model"] = InformationalVersion(typeof(Trainer).Assembly),
        ["TorchSharp"] = InformationalVersion(typeof(torch).Assembly),
        ["LibTorch"] = torch.__version__,
        [".NET"] = Environment.Version.ToString(),
    };

    private static string InformationalVersion(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString() ?? "unknown";

    private static void Validate(DataTable data, TrainingRequestSpec spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec.Target);
        ArgumentNullException.ThrowIfNull(spec.Features);
        ArgumentNullException.ThrowIfNull(spec.Network);
        ArgumentNullException.ThrowIfNull(spec.Options);
        if (!data.Contains(spec.Target))
        {
            throw new ArgumentException($"The data has no target column '{spec.Target}'.", nameof(spec));
        }
        if (data[spec.Target].Type != ColumnType.Numeric)
        {
            throw new ArgumentException($"The target column '{spec.Target}' must be numeric.", nameof(spec));
        }
        if (spec.Features.Count == 0)
        {
            throw new ArgumentException("At least one feature is needed.", nameof(spec));
        }
        if (spec.Features.Distinct(StringComparer.Ordinal).Count() != spec.Features.Count)
        {
            throw new ArgumentException("A feature is listed twice.", nameof(spec));
        }
        var absent = spec.Features.FirstOrDefault(f => !data.Contains(f));
        if (absent is not null)
        {
            throw new ArgumentException($"The data has no feature column '{absent}'.", nameof(spec));
        }
        if (spec.Features.Contains(spec.Target, StringComparer.Ordinal))
        {
            throw new ArgumentException($"The target '{spec.Target}' cannot also be a feature.", nameof(spec));
        }
        new NetworkSpec(1, 1, 1, spec.Network.HiddenChannels, spec.Network.Activation, spec.Network.Dropout, spec.Network.BatchNorm).Validate();

        var o = spec.Options;
        Require(o.Epochs >= 1, $"epochs must be at least 1, got {o.Epochs}.");
        Require(o.BatchSize >= 1, $"batchSize must be at least 1, got {o.BatchSize}.");
        Require(double.IsFinite(o.LearningRate) && o.LearningRate > 0, $"learningRate must be positive, got {o.LearningRate}.");
        Require(double.IsFinite(o.WeightDecay) && o.WeightDecay >= 0, $"weightDecay must be zero or positive, got {o.WeightDecay}.");
        Require(o.ValidationFraction is >= 0 and < 1, $"validationFraction must be in [0, 1), got {o.ValidationFraction}.");
        Require(o.EarlyStoppingPatience is null or >= 1, $"earlyStoppingPatience must be at least 1, got {o.EarlyStoppingPatience}.");
        Require(o.Threads >= 1, $"threads must be at least 1, got {o.Threads}.");
        Require(Enum.IsDefined(o.Optimizer), $"Unknown optimizer {o.Optimizer}.");
        Require(!spec.Network.BatchNorm || o.BatchSize >= 2, "Batch normalisation needs a batchSize of at least 2.");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}
