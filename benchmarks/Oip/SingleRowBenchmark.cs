using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Google.Protobuf;
using Grpc.Net.Client;
using ModelService.Api.Inference.Grpc;

namespace ModelService.Oip.Bench;

/// <summary>Single-row inference under load: C callers, each sending its next request when the previous answer is in, for
/// D seconds. REST callers share a pool of C HTTP/1.1 connections (one request at a time each). gRPC is measured twice:
/// the C callers multiplexed on one HTTP/2 channel (how a gRPC client is usually used), and spread over C channels, one
/// connection per caller like REST's pool (--grpc-channels, "1,C" by default): the like-for-like comparison.</summary>
internal static class SingleRowBenchmark
{
    private const int WarmupSeconds = 10;

    private static readonly byte[] RestBody =
        """{"inputs":[{"name":"input0","shape":[1,2],"datatype":"FP32","data":[0.5,0.5]}]}"""u8.ToArray();

    public static async Task<IEnumerable<string>> RunAsync(Arguments options)
    {
        var channelCounts = options.GrpcChannels.Select(c => c == 0 ? options.Connections : c).Distinct().ToList();
        Console.WriteLine($"== single row: {options.Connections} callers ({options.Connections} HTTP/1.1 connections for REST; "
            + $"{string.Join(" and ", channelCounts)} HTTP/2 channel(s) for gRPC), {options.Duration} s per run, {options.Runs} runs "
            + $"each (after {WarmupSeconds} s warm-up each), rotating which goes first");
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Connections })
        {
            BaseAddress = options.Rest,
        };
        var channels = Enumerable.Range(0, channelCounts.Max()).Select(_ => GrpcChannel.ForAddress(options.Grpc)).ToList();
        try
        {
            var clients = channels.Select(c => new GRPCInferenceService.GRPCInferenceServiceClient(c)).ToList();
            var request = GrpcRequest();
            var paths = new List<(string Name, Func<int, Task> Call)> { ("REST", _ => RestAsync(http)) };
            foreach (var count in channelCounts)
            {
                paths.Add(($"gRPC {count} ch", worker => GrpcAsync(clients[worker % count], request)));
            }
            // Long enough for the JIT's tiering to settle on every path before anything is timed.
            foreach (var (_, call) in paths)
            {
                await RateAsync(options.Connections, WarmupSeconds, call);
            }
            var rates = paths.Select(_ => new List<double>()).ToList();
            for (var run = 0; run < options.Runs; run++)
            {
                // Each run starts with another path, so that a drift in the machine's speed favours none.
                for (var k = 0; k < paths.Count; k++)
                {
                    var p = (run + k) % paths.Count;
                    rates[p].Add(await RateAsync(options.Connections, options.Duration, paths[p].Call));
                }
                Console.WriteLine(string.Join(", ", paths.Select((path, p) => $"{path.Name} {Stats.Format(rates[p][^1])} req/s")));
            }
            var restRate = Stats.Median(rates[0]);
            var summary = new List<string> { $"single-row REST v2 JSON infer:   {Stats.Format(restRate)} req/s ({options.Connections} connections)" };
            for (var p = 1; p < paths.Count; p++)
            {
                var rate = Stats.Median(rates[p]);
                var perRun = string.Join(" ", rates[p].Zip(rates[0], (g, r) => (g / r).ToString("F2", CultureInfo.InvariantCulture)));
                summary.Add($"single-row gRPC ModelInfer:      {Stats.Format(rate)} req/s ({channelCounts[p - 1]} channel(s)); "
                    + $"ratio gRPC / REST {rate / restRate:F2} (per run: {perRun})");
            }
            return summary;
        }
        finally
        {
            channels.ForEach(c => c.Dispose());
        }
    }

    /// <summary>Requests per second that <paramref name="workers"/> callers complete in <paramref name="seconds"/>.</summary>
    private static async Task<double> RateAsync(int workers, int seconds, Func<int, Task> call)
    {
        var deadline = Stopwatch.GetTimestamp() + (seconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        var counts = await Task.WhenAll(Enumerable.Range(0, workers).Select(async worker =>
        {
            var count = 0L;
            while (Stopwatch.GetTimestamp() < deadline)
            {
                await call(worker);
                count++;
            }
            return count;
        }));
        return counts.Sum() / Stats.Seconds(started);
    }

    private static async Task RestAsync(HttpClient http)
    {
        using var content = new ByteArrayContent(RestBody);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync("/v2/models/modelservice/infer", content);
        var body = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"{(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
        }
    }

    private static async Task GrpcAsync(GRPCInferenceService.GRPCInferenceServiceClient client, ModelInferRequest request)
    {
        var response = await client.ModelInferAsync(request);
        if (response.RawOutputContents.Count != 1 || response.RawOutputContents[0].Length != 8)
        {
            throw new InvalidOperationException($"Unexpected answer: {response}");
        }
    }

    /// <summary>As Triton's client sends a row: FP32 [1, 2] in raw_input_contents (0.5f, 0.5f little-endian).</summary>
    private static ModelInferRequest GrpcRequest()
    {
        var request = new ModelInferRequest
        {
            ModelName = "modelservice",
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input0", Datatype = "FP32", Shape = { 1, 2 } } },
        };
        request.RawInputContents.Add(ByteString.CopyFrom([0, 0, 0, 63, 0, 0, 0, 63]));
        return request;
    }
}
