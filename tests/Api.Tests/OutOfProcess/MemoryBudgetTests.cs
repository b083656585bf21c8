using System.Collections.Concurrent;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace ModelService.Api.Tests.OutOfProcess;

/// <summary>The service as a 2 GiB container runs it (DOTNET_GCHeapHardLimit = 1.5 GiB), attacked the ways that used
/// to cost it gigabytes, while a legitimate client keeps uploading and predicting: every attack gets its 4xx, every
/// legitimate request its right answer, the process survives, and its RSS stays under the heap limit. The peak RSS
/// of each attack is written to the test output (docs/SECURITY.md has the table). Sizes are bounded for CI.</summary>
[Collection(nameof(ServiceProcessesRunAlone))]
public sealed class MemoryBudgetTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const long HeapLimit = 0x60000000;
    private static readonly double[][] Probe = [[0.1, 0.2], [0.5, 0.5], [0.9, 0.3]];

    private readonly string _storage = ModelServiceFactory.NewStorageFolder();
    private ServiceProcess _service = null!;

    public async Task InitializeAsync() =>
        _service = await ServiceProcess.StartAsync(_storage, new Dictionary<string, string>
        {
            ["DOTNET_GCHeapHardLimit"] = "0x60000000",
        });

    public Task DisposeAsync()
    {
        _service.Dispose();
        ModelServiceFactory.DeleteStorage(_storage);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Attacks_get_4xx_legitimate_requests_are_answered_and_memory_stays_bounded()
    {
        var client = _service.Client;
        var expected = await client.PredictAsync(new { instances = Probe });
        var archive = await ArchiveOfActiveModelAsync(client);
        using var legitimate = new LegitimateClient(client, expected);
        var running = legitimate.RunAsync();
        var peaks = new List<(string Attack, long PeakBytes, long BaselineBytes)>();

        peaks.Add(await MeasureAsync("11 slow bodies declaring 100 MB (no key)", SlowBodiesAsync));
        peaks.Add(await MeasureAsync("PAX header declaring 1.5 GiB, 4 at once", () => PaxBombsAsync(client)));
        peaks.Add(await MeasureAsync("one-hot explosion: 25,000 categories, hidden [4]", () => OneHotExplosionAsync(client)));
        peaks.Add(await MeasureAsync("wide CSV: 1,000 columns x 2,000 rows (11 MB)", () => WideCsvAsync(client)));
        peaks.Add(await MeasureAsync("import declaring a 300,000-wide layer, 4 at once", () => WideLayerImportsAsync(client, archive)));
        peaks.Add(await MeasureAsync("deflated .npz expanding 1000x to 5,000,000 values, 6 at once", () => NpzBombsAsync(client)));

        legitimate.Stop();
        await running;
        foreach (var (attack, peak, baseline) in peaks)
        {
            output.WriteLine($"{attack}: peak RSS {peak >> 20} MiB (before: {baseline >> 20} MiB)");
        }
        Assert.False(_service.HasExited, _service.Output);
        Assert.True(legitimate.Answered > 5, $"the legitimate client made only {legitimate.Answered} rounds");
        Assert.Empty(legitimate.Failures);
        Assert.All(peaks, p => Assert.True(p.PeakBytes < HeapLimit, $"{p.Attack}: peak RSS {p.PeakBytes >> 20} MiB"));
        Assert.DoesNotContain("OutOfMemory", _service.Output, StringComparison.Ordinal);
    }

    private async Task<(string, long, long)> MeasureAsync(string attack, Func<Task> run)
    {
        var baseline = LargeBodyTests.ResidentBytes(_service.Id);
        var peak = baseline;
        using var done = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                peak = Math.Max(peak, LargeBodyTests.ResidentBytes(_service.Id));
                await Task.Delay(20, CancellationToken.None);
            }
        });
        await run();
        await done.CancelAsync();
        await sampler;
        return (attack, peak, baseline);
    }

    private async Task SlowBodiesAsync()
    {
        var head = Encoding.ASCII.GetBytes("POST /api/v1/predictions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + "Content-Length: 100000000\r\n\r\n{\"instances\": [");
        var clients = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 11; i++)
            {
                var tcp = new TcpClient();
                await tcp.ConnectAsync(_service.BaseAddress.Host, _service.BaseAddress.Port);
                await tcp.GetStream().WriteAsync(head);
                clients.Add(tcp);
            }
            var row = "[0.5, 0.5],"u8.ToArray();
            for (var second = 0; second < 6; second++)
            {
                foreach (var tcp in clients)
                {
                    for (var i = 0; i < 27; i++)
                    {
                        await tcp.GetStream().WriteAsync(row);
                    }
                }
                await Task.Delay(1000);
            }
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    private static async Task PaxBombsAsync(HttpClient client)
    {
        var bomb = PaxBomb();
        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            client.PostAsync(new Uri("/api/v1/models", UriKind.Relative), ServiceApi.Bytes(bomb, "application/gzip"))));
        foreach (var answer in answers)
        {
            await ServiceApi.ExpectProblemAsync(answer, HttpStatusCode.RequestEntityTooLarge);
        }
    }

    private static async Task OneHotExplosionAsync(HttpClient client)
    {
        var csv = new StringBuilder("category,y\n");
        for (var i = 0; i < 25_000; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"c{i},{i % 10}\n");
        }
        var dataset = (await client.UploadCsvAsync(csv.ToString(), "one-hot")).GetProperty("id").GetString();
        var job = await client.PostAsJsonAsync("/api/v1/training-jobs", new { datasetId = dataset, target = "y", hiddenChannels = new[] { 4 } });
        var problem = await ServiceApi.ExpectProblemAsync(job, HttpStatusCode.BadRequest, "features");
        Assert.Contains("Training:MaxWorkingSetBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static async Task WideCsvAsync(HttpClient client)
    {
        var random = new Random(3);
        var csv = new StringBuilder(string.Join(",", Enumerable.Range(0, 1000).Select(i => $"c{i}"))).Append('\n');
        for (var r = 0; r < 2000; r++)
        {
            for (var c = 0; c < 1000; c++)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{random.Next(10000) / 1000.0}").Append(c < 999 ? ',' : '\n');
            }
        }
        var created = await client.UploadCsvAsync(csv.ToString(), "wide");
        Assert.Equal(2000, created.GetProperty("rowCount").GetInt32());
        var deleted = await client.DeleteAsync(new Uri($"/api/v1/datasets/{created.GetProperty("id").GetString()}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    /// <summary>60 KB archives holding x [500, 100, 100, 1] and y [500, 100, 100] of zeros, 60 MB of values each: within
    /// Limits:MaxTensorElements, so each is stored, but only as many inflate at once as there are large-body slots.</summary>
    private static async Task NpzBombsAsync(HttpClient client)
    {
        var npz = Datasets.TensorSamples.Zip(true,
            ("x.npy", Datasets.TensorSamples.Npy(Datasets.TensorSamples.Dict("<f4", 500, 100, 100, 1), new byte[20_000_000])),
            ("y.npy", Datasets.TensorSamples.Npy(Datasets.TensorSamples.Dict("<f8", 500, 100, 100), new byte[40_000_000])));
        Assert.True(npz.Length < 1_000_000, $"{npz.Length} bytes");
        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            client.PostAsync(new Uri("/api/v1/datasets?name=bomb", UriKind.Relative), ServiceApi.Bytes(npz, "application/x-npz"))));
        foreach (var answer in answers)
        {
            var created = await ServiceApi.ExpectAsync(answer, HttpStatusCode.Created);
            var deleted = await client.DeleteAsync(new Uri($"/api/v1/datasets/{created.GetProperty("id").GetString()}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
    }

    private static async Task WideLayerImportsAsync(HttpClient client, List<(string Name, byte[] Data)> archive)
    {
        var manifest = JsonNode.Parse(archive.Single(e => e.Name == "manifest.json").Data)!.AsObject();
        manifest["network"]!["hiddenChannels"] = new JsonArray(300_000);
        var wide = Tar([.. archive.Select(e => e.Name == "manifest.json" ? (e.Name, Encoding.UTF8.GetBytes(manifest.ToJsonString())) : e)]);
        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            client.PostAsync(new Uri("/api/v1/models", UriKind.Relative), ServiceApi.Bytes(wide, "application/gzip"))));
        foreach (var answer in answers)
        {
            await ServiceApi.ExpectProblemAsync(answer, HttpStatusCode.BadRequest, "manifest.network.hiddenChannels[0]");
        }
    }

    private static async Task<List<(string Name, byte[] Data)>> ArchiveOfActiveModelAsync(HttpClient client)
    {
        var active = (await client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString();
        var bytes = await client.GetByteArrayAsync(new Uri($"/api/v1/models/{active}/artifact", UriKind.Relative));
        using var tar = new TarReader(new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress));
        var entries = new List<(string, byte[])>();
        while (tar.GetNextEntry(copyData: true) is { } entry)
        {
            using var data = new MemoryStream();
            entry.DataStream!.CopyTo(data);
            entries.Add((entry.Name, data.ToArray()));
        }
        return entries;
    }

    private static byte[] Tar(IEnumerable<(string Name, byte[] Data)> entries)
    {
        using var buffer = new MemoryStream();
        using (var tar = new TarWriter(new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true), TarEntryFormat.Pax, leaveOpen: false))
        {
            foreach (var (name, data) in entries)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
            }
        }
        return buffer.ToArray();
    }

    /// <summary>A ustar header of type 'x' (PAX extended header) declaring 1.5 GiB, then 1.5 MB of its "data".</summary>
    private static byte[] PaxBomb()
    {
        var header = new byte[512];
        Encoding.ASCII.GetBytes("PaxHeaders/manifest.json").CopyTo(header, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(header, 100);
        Encoding.ASCII.GetBytes(Convert.ToString(1_610_612_736L, 8).PadLeft(11, '0') + "\0").CopyTo(header, 124);
        header[156] = (byte)'x';
        Encoding.ASCII.GetBytes("ustar\000").CopyTo(header, 257);
        "        "u8.CopyTo(header.AsSpan(148));
        Encoding.ASCII.GetBytes(Convert.ToString(header.Sum(b => (long)b), 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(header);
            var records = Encoding.ASCII.GetBytes("30 comment=aaaaaaaaaaaaaaaaaa\n");
            for (var i = 0; i < 50_000; i++)
            {
                gzip.Write(records);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>Uploads a small dataset and a 2 MB one, predicts the probe rows and checks the answers, round after
    /// round until stopped; records every wrong answer.</summary>
    private sealed class LegitimateClient(HttpClient client, double[] expected) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly string _small = TestData.HousesCsv(200, seed: 11);
        private readonly string _large = TestData.HousesCsv(40_000, seed: 12);

        public ConcurrentQueue<string> Failures { get; } = new();

        public int Answered { get; private set; }

        public void Stop() => _stop.Cancel();

        public void Dispose() => _stop.Dispose();

        public async Task RunAsync()
        {
            var round = 0;
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var predictions = await client.PredictAsync(new { instances = Probe });
                    if (!predictions.SequenceEqual(expected))
                    {
                        Failures.Enqueue($"round {round}: predictions {string.Join(", ", predictions)}");
                    }
                    var csv = round % 5 == 0 ? _large : _small;
                    var created = await client.UploadCsvAsync(csv, $"legit-{round}");
                    var rows = round % 5 == 0 ? 40_000 : 200;
                    if (created.GetProperty("rowCount").GetInt32() != rows)
                    {
                        Failures.Enqueue($"round {round}: {created}");
                    }
                    await client.DeleteAsync(new Uri($"/api/v1/datasets/{created.GetProperty("id").GetString()}", UriKind.Relative));
                    Answered++;
                }
                catch (Exception e) when (e is not OperationCanceledException || !_stop.IsCancellationRequested)
                {
                    Failures.Enqueue($"round {round}: {e.Message}");
                }
                round++;
            }
        }
    }
}
