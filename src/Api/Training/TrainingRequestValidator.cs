using ModelService.Api.Datasets;
using ModelService.Model.Network;
using ModelService.Model.Training;

namespace ModelService.Api.Training;

/// <summary>Checks a training request against its dataset and the service limits, once, at the edge; fills in the
/// defaults of everything left out.</summary>
internal static class TrainingRequestValidator
{
    public const int MaxHiddenLayers = 16;
    public const int MaxLayerWidth = 4096;
    public const int MaxBatchSize = 65_536;
    public const double MaxLearningRate = 10;
    public const double MaxValidationFraction = 0.9;

    public static IReadOnlyList<int> DefaultHiddenChannels { get; } = [16, 8];

    /// <summary>The request with defaults filled in, or the errors by field.</summary>
    public static (TrainingRequest? Request, Dictionary<string, string[]> Errors) Validate(
        TrainingRequest request, DatasetInfo dataset, TrainingQueueOptions limits)
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string message) => errors[field] = [.. errors.GetValueOrDefault(field) ?? [], message];

        var columns = dataset.Columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
        ColumnInfo? targetColumn = null;
        if (string.IsNullOrEmpty(request.Target))
        {
            Error("target", "'target' is required: the name of the numeric column to predict.");
        }
        else if (!columns.TryGetValue(request.Target, out var target))
        {
            Error("target", $"Dataset '{dataset.Id}' has no column '{request.Target}'; its columns are: {ColumnList(dataset)}.");
        }
        else if (target.Type != ColumnTypes.Numeric)
        {
            Error("target", $"The target '{request.Target}' is categorical; a regression target must be numeric.");
        }
        else
        {
            targetColumn = target;
        }

        var features = request.Features ?? [.. dataset.Columns.Select(c => c.Name).Where(n => n != request.Target)];
        if (features.Count == 0)
        {
            Error("features", "At least one feature is needed.");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long inputWidth = 0;
        for (var i = 0; i < features.Count; i++)
        {
            var name = features[i];
            if (name is null || !columns.TryGetValue(name, out var column))
            {
                Error($"features[{i}]", $"Dataset '{dataset.Id}' has no column '{name}'; its columns are: {ColumnList(dataset)}.");
            }
            else if (name == request.Target)
            {
                Error($"features[{i}]", $"'{name}' is the target; it cannot also be a feature.");
            }
            else if (!seen.Add(name))
            {
                Error($"features[{i}]", $"'{name}' is listed twice.");
            }
            else if (column.Missing == dataset.RowCount)
            {
                Error($"features[{i}]", $"Column '{name}' has no values.");
            }
            else
            {
                inputWidth += column.Type == ColumnTypes.Numeric ? 1 : column.DistinctCount ?? 1;
            }
        }

        var hidden = request.HiddenChannels ?? DefaultHiddenChannels;
        if (hidden.Count is < 1 or > MaxHiddenLayers)
        {
            Error("hiddenChannels", $"Give between 1 and {MaxHiddenLayers} hidden layers.");
        }
        for (var i = 0; i < hidden.Count; i++)
        {
            if (hidden[i] is < 1 or > MaxLayerWidth)
            {
                Error($"hiddenChannels[{i}]", $"A hidden layer has between 1 and {MaxLayerWidth} channels; got {hidden[i]}.");
            }
        }
        var activationName = request.Activation ?? "relu";
        if (!ActivationNames.TryParse(activationName, out var activation))
        {
            Error("activation", $"Unknown activation '{activationName}'; use one of: {string.Join(", ", ActivationNames.All)}.");
        }
        var optimizerName = request.Optimizer ?? "adam";
        if (!OptimizerNames.TryParse(optimizerName, out var optimizer))
        {
            Error("optimizer", $"Unknown optimizer '{optimizerName}'; use one of: {string.Join(", ", OptimizerNames.All)}.");
        }
        var dropout = request.Dropout ?? 0;
        if (!(dropout >= 0 && dropout < 1))
        {
            Error("dropout", "'dropout' must be in [0, 1).");
        }
        var epochs = request.Epochs ?? 50;
        if (epochs < 1 || epochs > limits.MaxEpochs)
        {
            Error("epochs", $"'epochs' must be between 1 and {limits.MaxEpochs} (Training:MaxEpochs).");
        }
        var batchSize = request.BatchSize ?? 16;
        if (batchSize is < 1 or > MaxBatchSize)
        {
            Error("batchSize", $"'batchSize' must be between 1 and {MaxBatchSize}.");
        }
        var learningRate = request.LearningRate ?? 1e-3;
        if (!(learningRate > 0 && learningRate <= MaxLearningRate))
        {
            Error("learningRate", $"'learningRate' must be in (0, {MaxLearningRate}].");
        }
        var weightDecay = request.WeightDecay ?? 0;
        if (!(weightDecay >= 0 && weightDecay <= 1))
        {
            Error("weightDecay", "'weightDecay' must be in [0, 1].");
        }
        var validationFraction = request.ValidationFraction ?? 0.2;
        if (!(validationFraction >= 0 && validationFraction <= MaxValidationFraction))
        {
            Error("validationFraction", $"'validationFraction' must be in [0, {MaxValidationFraction}].");
        }
        if (request.EarlyStoppingPatience is < 1)
        {
            Error("earlyStoppingPatience", "'earlyStoppingPatience' must be at least 1, or null to train every epoch.");
        }
        if (targetColumn is not null && dataset.RowCount - targetColumn.Missing < (validationFraction > 0 ? 2 : 1))
        {
            Error("target", $"Only {dataset.RowCount - targetColumn.Missing} row(s) have a value for '{request.Target}'; "
                + "too few to train and validate.");
        }

        if (!errors.Keys.Any(k => k.StartsWith("hiddenChannels", StringComparison.Ordinal) || k.StartsWith("features", StringComparison.Ordinal)))
        {
            var network = new NetworkSpec(1, 1, (int)Math.Min(inputWidth, int.MaxValue), hidden, activation, 0, request.BatchNorm ?? false);
            if (network.ParameterCount > limits.MaxParameters)
            {
                Error("hiddenChannels", $"The network would have {network.ParameterCount} parameters; at most {limits.MaxParameters} are "
                    + "allowed (Training:MaxParameters).");
            }
            else if (!errors.ContainsKey("batchSize"))
            {
                var estimate = WorkingSetEstimate.For(dataset.RowCount, dataset.Columns.Count, inputWidth, network,
                    new Model.Training.TrainingOptions { BatchSize = batchSize, Optimizer = optimizer });
                if (estimate.TotalBytes > limits.MaxWorkingSetBytes)
                {
                    Error("features", $"Training would need about {Megabytes(estimate.TotalBytes)} MB ({dataset.RowCount} rows x "
                        + $"{inputWidth} encoded inputs, categorical features one-hot: {Megabytes(estimate.EncodedInputs)} MB; table "
                        + $"{Megabytes(estimate.Table)} MB; activations {Megabytes(estimate.Activations)} MB; parameters and optimiser "
                        + $"state {Megabytes(estimate.Parameters)} MB); the limit is {Megabytes(limits.MaxWorkingSetBytes)} MB "
                        + "(Training:MaxWorkingSetBytes). Leave out wide categorical features or train on fewer rows.");
                }
            }
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }
        return (request with
        {
            Features = features,
            HiddenChannels = hidden,
            Activation = activationName,
            Dropout = dropout,
            BatchNorm = request.BatchNorm ?? false,
            Epochs = epochs,
            BatchSize = batchSize,
            LearningRate = learningRate,
            Optimizer = optimizerName,
            WeightDecay = weightDecay,
            ValidationFraction = validationFraction,
            Seed = request.Seed ?? 42,
            Activate = request.Activate ?? true,
        }, errors);
    }

    /// <summary>The model library's view of a validated request.</summary>
    public static TrainingRequestSpec ToSpec(TrainingRequest request, int threads)
    {
        if (!ActivationNames.TryParse(request.Activation, out var activation) || !OptimizerNames.TryParse(request.Optimizer, out var optimizer))
        {
            throw new ArgumentException("The request was not validated.", nameof(request));
        }
        return new TrainingRequestSpec(
            request.Target!,
            request.Features!,
            new NetworkOptions(request.HiddenChannels!, activation, request.Dropout!.Value, request.BatchNorm!.Value),
            new Model.Training.TrainingOptions
            {
                Epochs = request.Epochs!.Value,
                BatchSize = request.BatchSize!.Value,
                LearningRate = request.LearningRate!.Value,
                Optimizer = optimizer,
                WeightDecay = request.WeightDecay!.Value,
                ValidationFraction = request.ValidationFraction!.Value,
                EarlyStoppingPatience = request.EarlyStoppingPatience,
                Seed = request.Seed!.Value,
                Threads = threads,
            });
    }

    private static long Megabytes(long bytes) => (bytes + (1 << 20) - 1) >> 20;

    private static string ColumnList(DatasetInfo dataset) => string.Join(", ", dataset.Columns.Select(c => c.Name));
}
