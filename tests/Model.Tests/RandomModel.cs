using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Network;
using ModelService.Model.Preprocessing;
using ModelService.Model.Training;
using static TorchSharp.torch;

namespace ModelService.Model.Tests;

/// <summary>Builds trained-model objects around networks the tests set up by hand.</summary>
internal static class RandomModel
{
    /// <summary>A model of <paramref name="spec"/> with random weights (and random batch-norm statistics), numeric
    /// features f0..fN standardised as-is, and an identity target scaling.</summary>
    public static TrainedModel Create(NetworkSpec spec, int seed)
    {
        var features = Enumerable.Range(0, spec.Positions * spec.InputChannels)
            .Select(i => new FeatureTransform($"f{i}", ColumnType.Numeric, 0, 0, 1, null, null))
            .ToArray();
        return Create(spec, seed, InputKind.Table, features, new TargetScaling("y", 0, 1));
    }

    /// <summary>A tensor model of <paramref name="spec"/> with random weights, channels standardised with a mean of
    /// 0.5 · channel and a standard deviation of 1 + channel (a missing value imputed with that mean), and a target scaled
    /// by a mean of 1.5 and a standard deviation of 2.</summary>
    public static TrainedModel CreateTensor(NetworkSpec spec, int seed)
    {
        var channels = Enumerable.Range(0, spec.InputChannels)
            .Select(c => new FeatureTransform($"channel_{c}", ColumnType.Numeric, 0.5 * c, 0.5 * c, 1 + c, null, null))
            .ToArray();
        return Create(spec, seed, InputKind.Tensor, channels, new TargetScaling("y", 1.5, 2));
    }

    private static TrainedModel Create(NetworkSpec spec, int seed, InputKind kind, FeatureTransform[] features, TargetScaling target)
    {
        using var generator = new Generator((ulong)seed);
        using var module = new ConvRegressor(spec, generator);
        var weights = module.ExportWeights().Select(w => w.Name.EndsWith("running_var", StringComparison.Ordinal)
                ? w with { Values = w.Values.Select((_, i) => 0.5f + (i % 3)).ToArray() }
                : w.Name.Contains(".bn.", StringComparison.Ordinal) ? w with { Values = w.Values.Select((_, i) => 0.3f * (i - 1)).ToArray() }
                : w)
            .ToArray();
        var manifest = new ModelManifest
        {
            Id = $"random-{seed}",
            CreatedAt = DateTimeOffset.UnixEpoch,
            Target = "y",
            InputKind = kind,
            TargetShape = kind == InputKind.Table ? null : spec.Head == Head.PerPosition ? [spec.Height, spec.Width] : [],
            Features = features,
            TargetScaling = target,
            Network = spec,
            Tensors = weights.Select(w => new TensorEntry(w.Name, w.Shape)).ToArray(),
            Training = new TrainingSummary
            {
                Epochs = 0, EpochsRequested = 0, BatchSize = 1, LearningRate = 0, Optimizer = OptimizerKind.Adam, WeightDecay = 0,
                Seed = seed, ValidationFraction = 0, BestEpoch = 0, DurationSeconds = 0, TrainRows = 0, ValidationRows = 0,
                DroppedRows = 0, History = [],
            },
            Metrics = new ModelMetrics(new RegressionMetrics(0, 0, 0), null),
            LibraryVersions = new Dictionary<string, string>(),
            WeightsSha256 = WeightsFile.Sha256(weights),
        };
        return new TrainedModel(manifest, weights);
    }
}
