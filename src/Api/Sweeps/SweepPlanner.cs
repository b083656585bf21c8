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
        var trialCount = request.Grid is { } grid ? GridAxes(grid).Aggregate(1L, (n, axis) => Math.Min(n * axis.Count, int.MaxValue))
            : request.Random?.Trials ?? 0;
        if (trialCount > limits.MaxTrials)
        {
            Error(request.Grid is null ? "random.trials" : "grid",
                $"The sweep has {trialCount} trials; at most {limits.MaxTrials} are allowed (Sweeps:MaxTrials).");
        }
        foreach (var axis in request.Grid is { } g ? GridAxes(g) : [])
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
        var (trials, varied) = request.Grid is { } gridForm ? Expand(shared, gridForm) : Draw(shared, request.Random!);
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

    private sealed record Axis(string Field, int Count, Func<TrainingRequest, int, TrainingRequest> Apply);

    private static List<Axis> GridAxes(SweepGrid grid)
    {
        var axes = new List<Axis>();
        void Add<T>(string field, IReadOnlyList<T>? values, Func<TrainingRequest, T, TrainingRequest> apply)
        {
            if (values is not null)
            {
                axes.Add(new Axis(field, values.Count, (request, i) => apply(request, values[i])));
            }
        }
        Add("learningRate", grid.LearningRate, (r, v) => r with { LearningRate = v });
        Add("weightDecay", grid.WeightDecay, (r, v) => r with { WeightDecay = v });
        Add("hiddenChannels", grid.HiddenChannels, (r, v) => r with { HiddenChannels = v });
        Add("activation", grid.Activation, (r, v) => r with { Activation = v });
        Add("dropout", grid.Dropout, (r, v) => r with { Dropout = v });
        Add("batchSize", grid.BatchSize, (r, v) => r with { BatchSize = v });
        Add("optimizer", grid.Optimizer, (r, v) => r with { Optimizer = v });
        Add("epochs", grid.Epochs, (r, v) => r with { Epochs = v });
        Add("seed", grid.Seed, (r, v) => r with { Seed = v });
        return axes;
    }

    /// <summary>Every combination, the first axis varying slowest; called only once the count is within the limit.</summary>
    private static (List<TrainingRequest>, IReadOnlyList<string>) Expand(TrainingRequest shared, SweepGrid grid)
    {
        var axes = GridAxes(grid);
        var count = axes.Aggregate(1, (n, axis) => n * axis.Count);
        var trials = new List<TrainingRequest>(count);
        for (var index = 0; index < count; index++)
        {
            var trial = shared;
            var rest = index;
            for (var a = axes.Count - 1; a >= 0; a--)
            {
                trial = axes[a].Apply(trial, rest % axes[a].Count);
                rest /= axes[a].Count;
            }
            trials.Add(trial);
        }
        return (trials, axes.Select(a => a.Field).ToArray());
    }

    private static (List<TrainingRequest>, IReadOnlyList<string>) Draw(TrainingRequest shared, SweepRandom random)
    {
        var rng = new Random(random.Seed);
        double LogUniform(SweepInterval range) => Math.Exp(Math.Log(range.Min) + (rng.NextDouble() * (Math.Log(range.Max) - Math.Log(range.Min))));
        T Pick<T>(IReadOnlyList<T> values) => values[rng.Next(values.Count)];
        var varied = new List<string>();
        void Mark(string field, object? range)
        {
            if (range is not null)
            {
                varied.Add(field);
            }
        }
        Mark("learningRate", random.LearningRate);
        Mark("weightDecay", random.WeightDecay);
        Mark("hiddenChannels", random.HiddenChannels);
        Mark("activation", random.Activation);
        Mark("dropout", random.Dropout);
        Mark("batchSize", random.BatchSize);
        Mark("optimizer", random.Optimizer);
        Mark("epochs", random.Epochs);
        var trials = new List<TrainingRequest>(random.Trials);
        for (var i = 0; i < random.Trials; i++)
        {
            var trial = shared;
            if (random.LearningRate is { } lr)
            {
                trial = trial with { LearningRate = LogUniform(lr) };
            }
            if (random.WeightDecay is { } wd)
            {
                trial = trial with { WeightDecay = LogUniform(wd) };
            }
            if (random.HiddenChannels is { } hidden)
            {
                trial = trial with { HiddenChannels = Pick(hidden) };
            }
            if (random.Activation is { } activation)
            {
                trial = trial with { Activation = Pick(activation) };
            }
            if (random.Dropout is { } dropout)
            {
                trial = trial with { Dropout = dropout.Min + (rng.NextDouble() * (dropout.Max - dropout.Min)) };
            }
            if (random.BatchSize is { } batch)
            {
                trial = trial with { BatchSize = Pick(batch) };
            }
            if (random.Optimizer is { } optimizer)
            {
                trial = trial with { Optimizer = Pick(optimizer) };
            }
            if (random.Epochs is { } epochs)
            {
                trial = trial with { Epochs = rng.Next(epochs.Min, epochs.Max + 1) };
            }
            trials.Add(trial);
        }
        return (trials, varied);
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
    private static IEnumerable<(string Field, string Message)> Ranges(TrainingRequest trial)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(trial, new ValidationContext(trial), results, validateAllProperties: true);
        return results.SelectMany(r => r.MemberNames.Select(m => (JsonNamingPolicy.CamelCase.ConvertName(m), r.ErrorMessage ?? "is out of range.")));
    }

    /// <summary>The [Range] attributes of <paramref name="value"/>'s properties, reported under their JSON names.</summary>
    private static void Annotations(object value, string prefix, Action<string, string> error)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true);
        foreach (var result in results)
        {
            foreach (var member in result.MemberNames)
            {
                var name = prefix + JsonNamingPolicy.CamelCase.ConvertName(member);
                error(name, $"'{name}' {result.ErrorMessage}.");
            }
        }
    }
}
