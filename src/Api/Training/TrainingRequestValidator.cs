using ModelService.Api.Datasets;
using ModelService.Model.Data;
using ModelService.Model.Network;
using ModelService.Model.Training;

namespace ModelService.Api.Training;

/// <summary>The rules of a training request that need its dataset or the configured limits (Training:MaxEpochs,
/// MaxParameters, MaxWorkingSetBytes); the field ranges are attributes on <see cref="TrainingRequest"/>, checked before
/// this runs.</summary>
internal static class TrainingRequestValidator
{
    /// <summary>The request with its features filled in, or the errors by field.</summary>
    public static (TrainingRequest? Request, Dictionary<string, string[]> Errors) Validate(
        TrainingRequest request, DatasetInfo dataset, TrainingQueueOptions limits)
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string message) => errors[field] = [.. errors.GetValueOrDefault(field) ?? [], message];

        if (dataset.Kind != DatasetKind.Table)
        {
            Error("datasetId", $"Dataset '{dataset.Id}' is a tensor dataset; this request trains on a table's columns.");
            return (null, errors);
        }

        if (request.Epochs > limits.MaxEpochs)
        {
            Error("epochs", $"'epochs' must be between 1 and {limits.MaxEpochs} (Training:MaxEpochs).");
        }
        var columns = dataset.Columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
        if (!columns.TryGetValue(request.Target!, out var target))
        {
            Error("target", $"Dataset '{dataset.Id}' has no column '{request.Target}'; its columns are: {ColumnList(dataset)}.");
        }
        else if (target.Type != ColumnType.Numeric)
        {
            Error("target", $"The target '{request.Target}' is categorical; a regression target must be numeric.");
        }
        else if (dataset.RowCount - target.Missing < (request.ValidationFraction > 0 ? 2 : 1))
        {
            Error("target", $"Only {dataset.RowCount - target.Missing} row(s) have a value for '{request.Target}'; too few to train and validate.");
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
                inputWidth += column.Type == ColumnType.Numeric ? 1 : column.DistinctCount ?? 1;
            }
        }

        if (!errors.Keys.Any(k => k.StartsWith("features", StringComparison.Ordinal)))
        {
            CheckSize(request, dataset, limits, inputWidth, Error);
        }
        return errors.Count > 0 ? (null, errors) : (request with { Features = features }, errors);
    }

    /// <summary>The network's parameters, then the job's peak memory, against the configured limits.</summary>
    private static void CheckSize(TrainingRequest request, DatasetInfo dataset, TrainingQueueOptions limits, long inputWidth,
        Action<string, string> error)
    {
        var network = new NetworkSpec(1, 1, (int)Math.Min(inputWidth, int.MaxValue), request.HiddenChannels, request.Activation, 0, request.BatchNorm);
        if (network.ParameterCount > limits.MaxParameters)
        {
            error("hiddenChannels", $"The network would have {network.ParameterCount} parameters; at most {limits.MaxParameters} are "
                + "allowed (Training:MaxParameters).");
            return;
        }
        var estimate = WorkingSetEstimate.For(dataset.RowCount, dataset.Columns.Count, inputWidth, network,
            new Model.Training.TrainingOptions { BatchSize = request.BatchSize, Optimizer = request.Optimizer });
        if (estimate.TotalBytes > limits.MaxWorkingSetBytes)
        {
            error("features", $"Training would need about {Megabytes(estimate.TotalBytes)} MB ({dataset.RowCount} rows x "
                + $"{inputWidth} encoded inputs, categorical features one-hot: {Megabytes(estimate.EncodedInputs)} MB; table "
                + $"{Megabytes(estimate.Table)} MB; activations {Megabytes(estimate.Activations)} MB; parameters and optimiser "
                + $"state {Megabytes(estimate.Parameters)} MB); the limit is {Megabytes(limits.MaxWorkingSetBytes)} MB "
                + "(Training:MaxWorkingSetBytes). Leave out wide categorical features or train on fewer rows.");
        }
    }

    private static long Megabytes(long bytes) => (bytes + (1 << 20) - 1) >> 20;

    private static string ColumnList(DatasetInfo dataset) => string.Join(", ", dataset.Columns.Select(c => c.Name));
}
