// Open Inference Protocol benchmarks against a running service, each figure against its peer in the same run:
//   batch:  one request of N rows (default 100,000) as binary FP32 in / binary FP64 out vs the same rows as v2 JSON;
//   single: single-row ModelInfer over gRPC vs single-row v2 REST infer, C concurrent callers for D seconds; gRPC on
//           each listed channel count (0 means one channel per caller, as REST has one connection per caller).
// Usage: ModelService.Oip.Bench --rest http://127.0.0.1:5111 --grpc http://127.0.0.1:5112
//        [--rows 100000] [--warmup 30] [--timed 15] [--connections 16] [--grpc-channels 1,0] [--duration 10] [--runs 3]
//        [--parts batch,single]
using System.Diagnostics;
using System.Globalization;
using ModelService.Oip.Bench;

var options = Arguments.Parse(args);
Console.WriteLine($"== {Environment.ProcessorCount} cores; REST {options.Rest}, gRPC {options.Grpc}");
var summary = new List<string>();
if (options.Parts.Contains("batch"))
{
    summary.AddRange(await BatchBenchmark.RunAsync(options));
}
if (options.Parts.Contains("single"))
{
    summary.AddRange(await SingleRowBenchmark.RunAsync(options));
}
Console.WriteLine();
Console.WriteLine("== summary (medians)");
summary.ForEach(Console.WriteLine);

namespace ModelService.Oip.Bench
{
    internal sealed record Arguments(Uri Rest, Uri Grpc, int Rows, int Warmup, int Timed, int Connections, IReadOnlyList<int> GrpcChannels,
        int Duration, int Runs, HashSet<string> Parts)
    {
        public static Arguments Parse(string[] args)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                values[args[i].TrimStart('-')] = args[i + 1];
            }
            int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
            return new Arguments(
                new Uri(values.GetValueOrDefault("rest", "http://127.0.0.1:5111")),
                new Uri(values.GetValueOrDefault("grpc", "http://127.0.0.1:5112")),
                Int("rows", 100_000), Int("warmup", 30), Int("timed", 15), Int("connections", 16),
                [.. values.GetValueOrDefault("grpc-channels", "1,0").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))],
                Int("duration", 10), Int("runs", 3),
                [.. values.GetValueOrDefault("parts", "batch,single").Split(',')]);
        }
    }

    internal static class Stats
    {
        public static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }

        public static string Format(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

        public static double Seconds(long from) => Stopwatch.GetElapsedTime(from).TotalSeconds;
    }
}
