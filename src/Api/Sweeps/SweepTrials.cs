using ModelService.Api.Training;
using ModelService.Model.Network;
using ModelService.Model.Training;

namespace ModelService.Api.Sweeps;

/// <summary>A sweep's trials: the base with the swept fields replaced, every grid combination or the random draws.</summary>
internal static class SweepTrials
{
    public sealed record Axis(string Field, int Count, Func<TrainingRequest, int, TrainingRequest> Apply);

    public static List<Axis> GridAxes(SweepGrid grid)
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
        Add("learningRateSchedule", grid.LearningRateSchedule, (r, v) => r with { LearningRateSchedule = v });
        Add("epochs", grid.Epochs, (r, v) => r with { Epochs = v });
        Add("seed", grid.Seed, (r, v) => r with { Seed = v });
        return axes;
    }

    /// <summary>Every combination, the first axis varying slowest; called only once the count is within the limit.</summary>
    public static (List<TrainingRequest> Trials, IReadOnlyList<string> Varied) Expand(TrainingRequest shared, SweepGrid grid)
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

    /// <summary>Draws the trials with the request's own seed, so a sweep's trials are the same each time it is sent.</summary>
    public static (List<TrainingRequest> Trials, IReadOnlyList<string> Varied) Draw(TrainingRequest shared, SweepRandom random)
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
}
