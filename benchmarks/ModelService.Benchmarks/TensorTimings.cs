using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ModelService.Model.Data;
using ModelService.Model.Network;
using ModelService.Model.Training;

namespace ModelService.Benchmarks;

/// <summary>
/// `tensor-timings [repeats] [threads] [epochs]`: wall times of the tensor benchmark's training job (benchmarks/tensor) in the
/// library, without HTTP: 2,000 samples of [16, 16, 4] drawn as benchmarks/tensor/make_data.py draws them, a per-position
/// head and every other setting the default. After one untimed run (the JIT and LibTorch's first use), prints each run's
/// seconds and final losses as one JSON line. Comparing two builds means alternating their processes, since the machine's
/// speed drifts.
/// </summary>
internal static class TensorTimings
{
    private const int Samples = 2000;
    private const int Side = 16;
    private const int Channels = 4;

    public static void Run(string[] args)
    {
        var repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        var threads = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;
        var epochs = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : TrainingOptions.Default.Epochs;
        var data = Draw(new Random(15));
        var spec = new TrainingRequestSpec("y", [], NetworkOptions.Default with { Head = Head.PerPosition },
            TrainingOptions.Default with { Threads = threads, Epochs = epochs });

        Trainer.Train(data, spec, null, CancellationToken.None);
        for (var repeat = 0; repeat < repeats; repeat++)
        {
            var clock = Stopwatch.StartNew();
            var model = Trainer.Train(data, spec, null, CancellationToken.None);
            var seconds = clock.Elapsed.TotalSeconds;
            var last = model.Manifest.Training!.History[^1];
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                job = "tensor-per-position",
                threads,
                epochs,
                repeat,
                seconds = Math.Round(seconds, 3),
                train_loss = last.TrainLoss,
                validation_loss = last.ValidationLoss,
                validation_rmse = model.Manifest.Metrics.Validation!.Rmse,
            }));
        }
    }

    // Bands on different scales, as in make_data.py: N(5, 2), U(0, 10), N(-100, 30), U(0, 1); y = 3 b0 - 2 b1 + N(0, 0.5).
    private static TensorData Draw(Random random)
    {
        var positions = Samples * Side * Side;
        var x = new float[positions * Channels];
        var y = new double[positions];
        for (var p = 0; p < positions; p++)
        {
            var b0 = (float)Normal(random, 5, 2);
            var b1 = (float)(random.NextDouble() * 10);
            x[(p * Channels) + 0] = b0;
            x[(p * Channels) + 1] = b1;
            x[(p * Channels) + 2] = (float)Normal(random, -100, 30);
            x[(p * Channels) + 3] = (float)random.NextDouble();
            y[p] = (3.0 * b0) - (2.0 * b1) + Normal(random, 0, 0.5);
        }
        return new TensorData(Samples, Side, Side, Channels, x, y, perPositionTarget: true);
    }

    private static double Normal(Random random, double mean, double deviation) =>
        mean + (deviation * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}
