using System.Diagnostics;
using System.Net;
using System.Text;
using Google.Protobuf;
using Grpc.Net.Client;
using ModelService.Api.Inference.Grpc;

namespace ModelService.Oip.Bench;

/// <summary>Single-row inference under load: C callers, each sending its next request when the previous answer is in, for
/// D seconds. REST callers share a pool of C HTTP/1.1 connections (one request at a time each); gRPC callers share
/// --grpc-channels HTTP/2 channels (1 by default, as a gRPC client multiplexes its calls on one channel).</summary>
internal static class SingleRowBenchmark
{
    private const int WarmupSeconds = 10;

    private static readonly byte[] RestBody =
        """{"inputs":[{"name":"input0","shape":[1,2],"datatype":"FP32","data":[0.5,0.5]}]}"""u8.ToArray();

    public static async Task<IEnumerable<string>> RunAsync(Arguments options)
    {
        Console.WriteLine($"== single row: {options.Connections} callers ({options.Connections} HTTP/1.1 connections for REST, "
            + $"{options.GrpcChannels} HTTP/2 channel(s) for gRPC), {options.Duration} s per run, {options.Runs} runs each "
            + $"(after {WarmupSeconds} s warm-up each), alternating which goes first");
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Connections })
        {
            BaseAddress = options.Rest,
        };
        var channels = Enumerable.Range(0, options.GrpcChannels).Select(_ => GrpcChannel.ForAddress(options.Grpc)).ToList();
        try
        {
            var clients = channels.Select(c => new GRPCInferenceService.GRPCInferenceServiceClient(c)).ToList();
            var request = GrpcRequest();
            Func<int, Task> restCall = _ => RestAsync(http);
            Func<int, Task> grpcCall = worker => GrpcAsync(clients[worker % clients.Count], request);
            // Long enough for the JIT's tiering to settle on both paths before anything is timed.
            await RateAsync(options.Connections, WarmupSeconds, restCall);
            await RateAsync(options.Connections, WarmupSeconds, grpcCall);
            var rest = new List<double>();
            var grpc = new List<double>();
            for (var run = 0; run < options.Runs; run++)
            {
                // Each run swaps which goes first, so that a drift in the machine's speed favours neither.
                if (run % 2 == 0)
                {
                    rest.Add(await RateAsync(options.Connections, options.Duration, restCall));
                    grpc.Add(await RateAsync(options.Connections, options.Duration, grpcCall));
                }
                else
                {
                    grpc.Add(await RateAsync(options.Connections, options.Duration, grpcCall));
                    rest.Add(await RateAsync(options.Connections, options.Duration, restCall));
                }
                Console.WriteLine($"REST {Stats.Format(rest[^1])} req/s, gRPC {Stats.Format(grpc[^1])} req/s");
            }
            var restRate = Stats.Median(rest);
            var grpcRate = Stats.Median(grpc);
            return
            [
                $"single-row REST v2 JSON infer:   {Stats.Format(restRate)} req/s",
                $"single-row gRPC ModelInfer:      {Stats.Format(grpcRate)} req/s",
                $"single-row ratio gRPC / REST:    {grpcRate / restRate:F2}",
            ];
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
