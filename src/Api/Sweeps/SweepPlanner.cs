using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using ModelService.Api.Json;
using ModelService.Api.Datasets;
using ModelService.Api.Training;
using ModelService.Model.Data;
using ModelService.Model.Network;
using ModelService.Model.Training;

namespace ModelService.Api.Sweeps;

/// <summary>Checks a sweep request against its dataset and the limits, once, at the edge, and expands it into its trials:
/// each trial is a training request checked as a job would be, so a sweep accepts exactly the values a job accepts.
/// An error about a swept field names it under grid or random, one about a shared field under base.</summary>
internal static class SweepPlanner
{
    public static (SweepPlan? Plan, Dictionary<string, string[]> Errors) Plan(
        SweepRequest request, DatasetInfo dataset, TrainingQueueOptions training, SweepOptions limits)
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string message)
        {
            if (!errors.ContainsKey(field))
            {
                errors[field] = [message];
            }
        }

        if (dataset.Kind == DatasetKind.Tensor)
        {
            // The batched trainer stacks table runs; a tensor dataset trains through a training job.
            Error("datasetId", $"Dataset '{dataset.Id}' is a tensor dataset; sweeps train on tables. Train it with a training job.");
            return (null, errors);
        }
        Annotations(request, "", Error);
        var form = request.Grid is not null ? "grid" : "random";
        if ((request.Grid is null) == (request.Random is null))
        {
            Error("grid", "Give either 'grid' (values to combine) or 'random' (trials and ranges to draw from), not both or neither.");
        }
        if (request.Random is { } random)
        {
            Annotations(random, "random.", Error);
        }
        if (request.Folds > limits.MaxFolds)
        {
            Error("folds", $"'folds' must be at most {limits.MaxFolds} (Sweeps:MaxFolds).");
        }
        var axes = request.Grid is { } grid ? SweepTrials.GridAxes(grid) : [];
        var trialCount = request.Grid is not null ? axes.Aggregate(1L, (n, axis) => Math.Min(n * axis.Count, int.MaxValue))
            : request.Random?.Trials ?? 0;
        if (trialCount > limits.MaxTrials)
        {
            Error(request.Grid is null ? "random.trials" : "grid",
                $"The sweep has {trialCount} trials; at most {limits.MaxTrials} are allowed (Sweeps:MaxTrials).");
        }
        foreach (var axis in axes)
        {
            if (axis.Count == 0)
            {
                Error($"grid.{axis.Field}", $"'grid.{axis.Field}' lists no values.");
            }
        }
        if (request.Random is { } r)
        {
            CheckRandom(r, Error);
        }
        if (request.Keep > trialCount && trialCount > 0)
        {
            Error("keep", $"'keep' ({request.Keep}) is more than the sweep's {trialCount} trials.");
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var shared = (request.Base ?? new TrainingRequest()) with
        {
            DatasetId = request.DatasetId ?? request.Base?.DatasetId,
            Target = request.Target ?? request.Base?.Target,
            Features = request.Features ?? request.Base?.Features,
            Activate = false,
        };
        var (trials, varied) = request.Grid is { } gridForm ? SweepTrials.Expand(shared, gridForm) : SweepTrials.Draw(shared, request.Random!);
        var normalised = new List<TrainingRequest>(trials.Count);
        for (var i = 0; i < trials.Count && errors.Count == 0; i++)
        {
            var (checkedTrial, trialErrors) = TrainingRequestValidator.Validate(trials[i], dataset, training);
            foreach (var (field, message) in Ranges(trials[i]).Concat(trialErrors.Select(e => (e.Key, e.Value[0]))))
            {
                var name = field.Split('[', '.')[0];
                var prefix = name is "target" or "features" ? "" : varied.Contains(name) ? $"{form}." : "base.";
                Error(prefix + field, $"Trial {i}: {message}");
            }
            if (checkedTrial is not null)
            {
                normalised.Add(checkedTrial with { Activate = false });
            }
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        if (request.Folds is null && normalised[0].ValidationFraction <= 0)
        {
            Error("base.validationFraction", "Without folds each trial is scored on its validation rows: give a validationFraction above 0, or folds.");
            return (null, errors);
        }
        var plan = new SweepPlan(request with { Base = shared, DatasetId = shared.DatasetId, Target = shared.Target,
            Features = normalised[0].Features }, normalised, varied);
        CheckTotals(plan, dataset, training, limits, form, Error);
        return errors.Count > 0 ? (null, errors) : (plan, errors);
    }

    /// <summary>The swept fields' values in the form tags and settings show them: numbers and lists as JSON, names bare.</summary>
    public static Dictionary<string, string> Settings(SweepPlan plan, int trial)
    {
        var node = JsonSerializer.SerializeToNode(plan.Trials[trial], ApiJsonContext.Default.TrainingRequest)!.AsObject();
        return plan.Varied.ToDictionary(field => field, field => node[field] is { } value
            ? value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString()
            : "null");
    }

    /// <summary>Every run's encoded rows and parameters are held at once; activations are those of the largest stacked step
    /// (a batch of every run's rows) or evaluation slice, whichever is larger, as for one job.</summary>
    private static void CheckTotals(SweepPlan plan, DatasetInfo dataset, TrainingQueueOptions training, SweepOptions limits, string form,
        Action<string, string> error)
    {
        long parameters = 0, epochs = 0, bytes = 0, activations = 0, table = 0;
        foreach (var trial in plan.Trials)
        {
            var spec = trial.ToSpec(1);
            var width = EncodedWidth(dataset, trial.Features!);
            var network = new NetworkSpec(1, 1, width, spec.Network.HiddenChannels, spec.Network.Activation, 0, spec.Network.BatchNorm);
            var stackedBatch = (int)Math.Min(int.MaxValue, (long)spec.Options.BatchSize * plan.Runs);
            var estimate = WorkingSetEstimate.For(dataset.RowCount, dataset.Columns.Count, width, network,
                spec.Options with { BatchSize = stackedBatch });
            table = estimate.Table;
            activations = Math.Max(activations, estimate.Activations);
            parameters = Saturating(parameters, network.ParameterCount * plan.RunsPerTrial);
            epochs = Saturating(epochs, (long)spec.Options.Epochs * plan.RunsPerTrial);
            bytes = Saturating(bytes, Saturating(estimate.EncodedInputs, estimate.Parameters) * plan.RunsPerTrial);
        }
        if (parameters > limits.MaxTotalParameters)
        {
            error(form, $"The sweep's runs (trials x folds) have {parameters} parameters together; at most {limits.MaxTotalParameters} "
                + "are allowed (Sweeps:MaxTotalParameters).");
        }
        if (epochs > limits.MaxTotalEpochs)
        {
            error(form, $"The sweep's runs (trials x folds) train {epochs} epochs together; at most {limits.MaxTotalEpochs} are "
                + "allowed (Sweeps:MaxTotalEpochs).");
        }
        bytes = Saturating(Saturating(bytes, table), activations);
        if (bytes > training.MaxWorkingSetBytes)
        {
            error(plan.Request.Folds is null ? form : "folds", $"The sweep's runs (trials x folds) would need about {bytes >> 20} MB "
                + $"together; the limit is {training.MaxWorkingSetBytes >> 20} MB (Training:MaxWorkingSetBytes). Use fewer trials or folds.");
        }
    }

    private static long Saturating(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    private static int EncodedWidth(DatasetInfo dataset, IReadOnlyList<string> features)
    {
        var columns = dataset.Columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
        return features.Sum(f => columns[f].Type == ColumnType.Numeric ? 1 : (int)(columns[f].DistinctCount ?? 1));
    }

    private static void CheckRandom(SweepRandom random, Action<string, string> error)
    {
        void LogRange(string field, SweepInterval? range)
        {
            if (range is not null && !(range.Min > 0 && range.Min <= range.Max && double.IsFinite(range.Max)))
            {
                error($"random.{field}", $"'random.{field}' is drawn log-uniformly: give 0 < min <= max.");
            }
        }
        LogRange("learningRate", random.LearningRate);
        LogRange("weightDecay", random.WeightDecay);
        if (random.Dropout is { } dropout && !(dropout.Min >= 0 && dropout.Min <= dropout.Max && dropout.Max < 1))
        {
            error("random.dropout", "'random.dropout' needs 0 <= min <= max < 1.");
        }
        if (random.Epochs is { } epochs && !(epochs.Min >= 1 && epochs.Min <= epochs.Max))
        {
            error("random.epochs", "'random.epochs' needs 1 <= min <= max.");
        }
        void Choices(string field, int? count)
        {
            if (count == 0)
            {
                error($"random.{field}", $"'random.{field}' lists no values to choose from.");
            }
        }
        Choices("hiddenChannels", random.HiddenChannels?.Count);
        Choices("activation", random.Activation?.Count);
        Choices("batchSize", random.BatchSize?.Count);
        Choices("optimizer", random.Optimizer?.Count);
    }

    /// <summary>A trial's range rules: the same attributes that minimal-API validation checks on a job's request.</summary>
    private static IEnumerable<(string Field, string Message)> Ranges(TrainingRequest trial) =>
        Violations(trial).Select(v => (v.Field, v.Message ?? $"'{v.Field}' is out of range."));

    /// <summary>The [Range] attributes of <paramref name="value"/>'s properties, reported under their JSON names.</summary>
    private static void Annotations(object value, string prefix, Action<string, string> error)
    {
        foreach (var (field, message) in Violations(value))
        {
            error(prefix + field, $"'{prefix + field}' {message}.");
        }
    }

    /// <summary>What the data annotations of <paramref name="value"/> (and its IValidatableObject rules) refuse, by JSON name.</summary>
    private static IEnumerable<(string Field, string? Message)> Violations(object value)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true);
        return results.SelectMany(r => r.MemberNames.Select(m => (JsonNamingPolicy.CamelCase.ConvertName(m), r.ErrorMessage)));
    }
}
