using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ModelService.Model.Data;
using ModelService.Model.Training;
using ModelService.Model.Training.Batched;

namespace ModelService.Benchmarks;

/// <summary>
/// `sweep-timings [repeats] [threads]`: wall times for benchmarks/sweep/run.sh, which sets them against PyTorch in the
/// same run. After one untimed round (the JIT and LibTorch's first use), each repeat times one seed trial alone, the
/// 16-trial grid as one batch and the 16 trials alone one after another, and prints them as one JSON line.
/// </summary>
internal static class SweepTimings
{
    public static void Run(string[] args)
    {
        var repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        var threads = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;
        var data = SeedExample.HousePrices(1000, seed: 7);
        var runs = SweepGrid.Runs(threads);
        var one = runs[5]; // learning rate 1e-3, weight decay 1e-4: the seed job with a little decay

        Time(() => Trainer.Train(data, one.Spec, null, CancellationToken.None));
        Time(() => BatchedTrainer.Train(data, runs, null, CancellationToken.None));
        for (var repeat = 0; repeat < repeats; repeat++)
        {
            var alone = Time(() => Trainer.Train(data, one.Spec, null, CancellationToken.None));
            IReadOnlyList<RunResult> results = [];
            var batched = Time(() => results = BatchedTrainer.Train(data, runs, null, CancellationToken.None));
            var sequential = Time(() =>
            {
                foreach (var run in runs)
                {
                    Trainer.Train(data, run.Spec, null, CancellationToken.None);
                }
            });
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                service = "modelservice",
                job = "seed-grid-16",
                threads,
                repeat,
                one_alone = Math.Round(alone, 3),
                batched_16 = Math.Round(batched, 3),
                sequential_16 = Math.Round(sequential, 3),
                groups = results.Select(r => r.Group).Distinct().Count(),
                best_validation_rmse = Math.Round(results.Min(r => r.Model!.Manifest.Metrics.Validation!.Rmse), 1),
            }));
        }
    }

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }
}
