using System.Diagnostics;
using System.Reflection;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Network;
using ModelService.Model.Preprocessing;
using TorchSharp;

namespace ModelService.Model.Training;

/// <summary>
/// One training up to its first step and after its last: the seeded generator, the split, the fitted preprocessing, the
/// encoded rows and the initialised network, then the model built from the trained network. The single trainer and the
/// batched trainer share it, so that a run trained in a batch draws the same split, initial weights and shuffles, and
/// becomes the same kind of model, as the run trained alone.
/// </summary>
internal sealed class PreparedRun : IDisposable
{
    private readonly Stopwatch _clock;
    private readonly InputKind _inputKind;
    private readonly IReadOnlyList<int>? _targetShape;

    private PreparedRun(
        TrainingRequestSpec spec, CrossValidationFold? fold, torch.Generator generator, DataSplit split, Preprocessor preprocessor,
        EncodedSplit encoded, NetworkSpec network, ConvRegressor module, Stopwatch clock, InputKind inputKind,
        IReadOnlyList<int>? targetShape)
    {
        _inputKind = inputKind;
        _targetShape = targetShape;
        Spec = spec;
        Fold = fold;
        Generator = generator;
        Split = split;
        Preprocessor = preprocessor;
        Encoded = encoded;
        Network = network;
        Module = module;
        _clock = clock;
    }

    public TrainingRequestSpec Spec { get; }

    public CrossValidationFold? Fold { get; }

    /// <summary>Draws the split, the initial weights, then every epoch's shuffle and dropout masks.</summary>
    public torch.Generator Generator { get; }

    public DataSplit Split { get; }

    public Preprocessor Preprocessor { get; }

    public EncodedSplit Encoded { get; }

    public NetworkSpec Network { get; }

    /// <summary>The network with its initial weights; <see cref="Finish"/> expects it to hold the trained ones.</summary>
    public ConvRegressor Module { get; }

    /// <summary>Seeds the generator, splits, fits the preprocessing on the training rows and initialises the network.
    /// The spec must have passed <see cref="Trainer.Validate(DataTable, TrainingRequestSpec)"/>.</summary>
    public static PreparedRun Create(DataTable data, TrainingRequestSpec spec, CrossValidationFold? fold)
    {
        var clock = Stopwatch.StartNew();
        var generator = new torch.Generator(unchecked((ulong)spec.Options.Seed));
        try
        {
            var split = DataSplit.Create(data, spec, generator, fold);
            var preprocessor = Preprocessor.Fit(data, split.TrainRows, spec.Target, spec.Features);
            var encoded = EncodedSplit.Create(data, split, preprocessor);
            var network = new NetworkSpec(1, 1, preprocessor.InputWidth, spec.Network.HiddenChannels.ToArray(),
                spec.Network.Activation, spec.Network.Dropout, spec.Network.BatchNorm);
            var module = new ConvRegressor(network, generator);
            return new PreparedRun(spec, fold, generator, split, preprocessor, encoded, network, module, clock, InputKind.Table, null);
        }
        catch
        {
            generator.Dispose();
            throw;
        }
    }

    /// <summary>As for a table: splits the samples, fits per-channel standardisation on the training samples and
    /// initialises a network of the data's [H, W, C] shape with the spec's head (or the one the target asks for). The spec
    /// must have passed <see cref="Trainer.Validate(TensorData, TrainingRequestSpec)"/>.</summary>
    public static PreparedRun Create(TensorData data, TrainingRequestSpec spec)
    {
        var clock = Stopwatch.StartNew();
        var generator = new torch.Generator(unchecked((ulong)spec.Options.Seed));
        try
        {
            var split = DataSplit.Create(data, spec, generator);
            var preprocessor = Preprocessor.FitChannels(data, split.TrainRows);
            var encoded = EncodedSplit.Create(data, split, preprocessor);
            var network = new NetworkSpec(data.Height, data.Width, data.Channels, spec.Network.HiddenChannels.ToArray(),
                spec.Network.Activation, spec.Network.Dropout, spec.Network.BatchNorm, spec.Network.HeadFor(data.PerPositionTarget));
            var module = new ConvRegressor(network, generator);
            return new PreparedRun(spec, null, generator, split, preprocessor, encoded, network, module, clock, InputKind.Tensor,
                data.TargetShape.ToArray());
        }
        catch
        {
            generator.Dispose();
            throw;
        }
    }

    /// <summary>Measures the module's current weights on the training and validation rows and builds the model.</summary>
    public TrainedModel Finish(LoopOutcome outcome)
    {
        var options = Spec.Options;
        var metrics = new ModelMetrics(
            Evaluate(Encoded.TrainInputs, Encoded.TrainRawTargets),
            Encoded.ValidationRows == 0 ? null : Evaluate(Encoded.ValidationInputs, Encoded.ValidationRawTargets));
        var manifest = new ModelManifest
        {
            Id = Guid.NewGuid().ToString("N"),
            CreatedAt = DateTimeOffset.UtcNow,
            Target = Preprocessor.Target.Name,
            InputKind = _inputKind,
            TargetShape = _targetShape,
            Features = Preprocessor.Features,
            TargetScaling = Preprocessor.Target,
            Network = Network,
            Tensors = outcome.Weights.Select(w => new TensorEntry(w.Name, w.Shape)).ToArray(),
            Training = new TrainingSummary
            {
                Epochs = outcome.History.Count,
                EpochsRequested = options.Epochs,
                BatchSize = options.BatchSize,
                LearningRate = options.LearningRate,
                Optimizer = options.Optimizer,
                LearningRateSchedule = options.LearningRateSchedule,
                WeightDecay = options.WeightDecay,
                Seed = options.Seed,
                ValidationFraction = options.ValidationFraction,
                EarlyStoppingPatience = options.EarlyStoppingPatience,
                BestEpoch = outcome.BestEpoch,
                DurationSeconds = _clock.Elapsed.TotalSeconds,
                TrainRows = Split.TrainRows.Length,
                ValidationRows = Split.ValidationRows.Length,
                DroppedRows = Split.DroppedRows,
                History = outcome.History,
            },
            Metrics = metrics,
            LibraryVersions = LibraryVersions(),
            WeightsSha256 = WeightsFile.Sha256(outcome.Weights),
        };
        return new TrainedModel(manifest, outcome.Weights);
    }

    /// <summary>Starts the duration recorded in the manifest again (a batch prepares its runs before it trains them).</summary>
    public void Restart() => _clock.Restart();

    public void Dispose()
    {
        Module.Dispose();
        Generator.Dispose();
    }

    private RegressionMetrics Evaluate(float[] inputs, double[] targets)
    {
        var outputs = TrainingLoop.Predict(Module, inputs, targets.Length / Encoded.TargetWidth, Encoded.InputWidth);
        var predictions = outputs.Select(z => Preprocessor.UnscaleTarget(z)).ToArray();
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
}
