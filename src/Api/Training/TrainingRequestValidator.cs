using ModelService.Api.Datasets;
using ModelService.Model.Data;
using ModelService.Model.Network;
using ModelService.Model.Serialization;
using ModelService.Model.Training;

namespace ModelService.Api.Training;

/// <summary>The rules of a training request that need its dataset or the configured limits (Training:MaxEpochs,
/// MaxParameters, MaxWorkingSetBytes); the field ranges are attributes on <see cref="TrainingRequest"/>, checked before
/// this runs.</summary>
internal static class TrainingRequestValidator
{
    /// <summary>The request with its features (for a table) and head filled in, or the errors by field.</summary>
    public static (TrainingRequest? Request, Dictionary<string, string[]> Errors) Validate(
        TrainingRequest request, DatasetInfo dataset, TrainingQueueOptions limits)
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string message) => errors[field] = [.. errors.GetValueOrDefault(field) ?? [], message];

        if (request.Epochs > limits.MaxEpochs)
        {
            Error("epochs", $"'epochs' must be between 1 and {limits.MaxEpochs} (Training:MaxEpochs).");
        }
        var normalised = dataset.Kind == InputKind.Tensor
            ? ValidateTensor(request, dataset, limits, Error)
            : ValidateTable(request, dataset, limits, Error);
        return errors.Count > 0 ? (null, errors) : (normalised, errors);
    }

    private static TrainingRequest ValidateTable(TrainingRequest request, DatasetInfo dataset, TrainingQueueOptions limits,
        Action<string, string> Error)
    {
        if (request.Head == Head.PerPosition)
        {
            Error("head", $"Dataset '{dataset.Id}' is a table, with one target per row: the per-position head needs a tensor "
                + "dataset with a target per position. Leave 'head' out or send flatten-dense.");
        }
        var columns = dataset.Columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
        if (request.Target is null)
        {
            Error("target", "'target' is required: the name of the numeric column to predict.");
        }
        else if (!columns.TryGetValue(request.Target, out var target))
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
        var featureErrors = false;
        for (var i = 0; i < features.Count; i++)
        {
            var name = features[i];
            string? problem = null;
            if (name is null || !columns.TryGetValue(name, out var column))
            {
                problem = $"Dataset '{dataset.Id}' has no column '{name}'; its columns are: {ColumnList(dataset)}.";
            }
            else if (name == request.Target)
            {
                problem = $"'{name}' is the target; it cannot also be a feature.";
            }
            else if (!seen.Add(name))
            {
                problem = $"'{name}' is listed twice.";
            }
            else if (column.Missing == dataset.RowCount)
            {
                problem = $"Column '{name}' has no values.";
            }
            else
            {
                inputWidth += column.Type == ColumnType.Numeric ? 1 : column.DistinctCount ?? 1;
            }
            if (problem is not null)
            {
                Error($"features[{i}]", problem);
                featureErrors = true;
            }
        }

        if (!featureErrors && features.Count > 0)
        {
            var network = new NetworkSpec(1, 1, (int)Math.Min(inputWidth, int.MaxValue), request.HiddenChannels, request.Activation, 0,
                request.BatchNorm);
            if (CheckParameters(network, limits, Error))
            {
                var estimate = WorkingSetEstimate.For(dataset.RowCount, dataset.Columns.Count, inputWidth, network, Options(request));
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
        return request with { Features = features, Head = Head.FlattenDense };
    }

    /// <summary>A tensor dataset's inputs and target are its x and y, so the request names neither; its head must fit the
    /// target's shape, and its network and working set the limits.</summary>
    private static TrainingRequest ValidateTensor(TrainingRequest request, DatasetInfo dataset, TrainingQueueOptions limits,
        Action<string, string> Error)
    {
        if (request.Target is not null)
        {
            Error("target", $"Dataset '{dataset.Id}' is a tensor dataset, whose target is its y: leave 'target' out.");
        }
        if (request.Features is not null)
        {
            Error("features", $"Dataset '{dataset.Id}' is a tensor dataset, whose inputs are its x: leave 'features' out.");
        }
        var shape = dataset.Shape ?? throw new InvalidOperationException($"Tensor dataset '{dataset.Id}' has no shape.");
        var targetShape = dataset.TargetShape ?? [];
        var perPosition = targetShape.Count > 0;
        var head = request.ToNetworkOptions().HeadFor(perPosition);
        if (head == Head.PerPosition && !perPosition)
        {
            Error("head", $"The per-position head predicts a value per position, but dataset '{dataset.Id}' has one target per "
                + "sample (targetShape []): leave 'head' out or send flatten-dense.");
        }
        else if (head == Head.FlattenDense && perPosition)
        {
            Error("head", $"The flatten-dense head predicts one value per sample, but dataset '{dataset.Id}' has a target per "
                + $"position (targetShape [{string.Join(", ", targetShape)}]): leave 'head' out or send per-position.");
        }
        // A per-sample target's missing count is a count of samples; a per-position one's counts positions.
        var missing = dataset.Target?.Missing ?? 0;
        var needed = request.ValidationFraction > 0 ? 2 : 1;
        if (!perPosition && dataset.RowCount - missing < needed)
        {
            Error("datasetId", $"Only {dataset.RowCount - missing} sample(s) of dataset '{dataset.Id}' have a target; too few to train and validate.");
        }
        else if (perPosition && dataset.Target is { Min: null })
        {
            Error("datasetId", $"No sample of dataset '{dataset.Id}' has a target.");
        }

        var network = new NetworkSpec(shape[0], shape[1], shape[2], request.HiddenChannels, request.Activation, 0, request.BatchNorm, head);
        if (CheckParameters(network, limits, Error))
        {
            var estimate = WorkingSetEstimate.ForTensor(dataset.RowCount, perPosition, network, Options(request));
            if (estimate.TotalBytes > limits.MaxWorkingSetBytes)
            {
                Error("datasetId", $"Training would need about {Megabytes(estimate.TotalBytes)} MB ({dataset.RowCount} samples of "
                    + $"[{string.Join(", ", shape)}]: data {Megabytes(estimate.Table)} MB; standardised copies "
                    + $"{Megabytes(estimate.EncodedInputs)} MB; activations {Megabytes(estimate.Activations)} MB; parameters and "
                    + $"optimiser state {Megabytes(estimate.Parameters)} MB); the limit is {Megabytes(limits.MaxWorkingSetBytes)} MB "
                    + "(Training:MaxWorkingSetBytes). Train on fewer or smaller samples, or with a smaller batchSize or network.");
            }
        }
        return request with { Head = head };
    }

    /// <summary>The network's parameters against Training:MaxParameters; false (and the error) when over.</summary>
    private static bool CheckParameters(NetworkSpec network, TrainingQueueOptions limits, Action<string, string> error)
    {
        if (network.ParameterCount <= limits.MaxParameters)
        {
            return true;
        }
        var growing = network.PositionDependentParameterCount > 0
            ? $" ({network.PositionDependentParameterCount} of them in the {WireNames.Of(network.Head)} head, which grows with H x W)"
            : "";
        error("hiddenChannels", $"The network would have {network.ParameterCount} parameters{growing}; at most {limits.MaxParameters} are "
            + "allowed (Training:MaxParameters).");
        return false;
    }

    private static Model.Training.TrainingOptions Options(TrainingRequest request) =>
        new() { BatchSize = request.BatchSize, Optimizer = request.Optimizer };

    private static long Megabytes(long bytes) => (bytes + (1 << 20) - 1) >> 20;

    private static string ColumnList(DatasetInfo dataset) => string.Join(", ", dataset.Columns.Select(c => c.Name));
}
