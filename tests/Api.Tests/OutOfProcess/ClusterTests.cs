using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ModelService.Api.Tests.Storage;
using Npgsql;
using Xunit.Abstractions;

namespace ModelService.Api.Tests.OutOfProcess;

/// <summary>Two API replicas (Training:RunJobs off) and two workers, each its own OS process, started at once on one
/// empty PostgreSQL database of a private cluster (so the database can be restarted without disturbing other tests). Fixture and tests share one file: the
/// fixture exists only for these tests.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const int LeaseSeconds = 3;

    private readonly List<string> _folders = [];

    public PostgresServer Server { get; private set; } = null!;

    public string ConnectionString { get; private set; } = "";

    public ServiceProcess[] Replicas { get; private set; } = [];

    public List<ServiceProcess> Workers { get; } = [];

    public async Task InitializeAsync()
    {
        if (PostgresServer.SkipReason is not null)
        {
            return;
        }
        Server = await PostgresServer.GetRestartableAsync();
        ConnectionString = await Server.CreateDatabaseAsync();
        Task<ServiceProcess>[] starting =
        [
            StartAsync("replica-a", runJobs: false), StartAsync("replica-b", runJobs: false),
            StartAsync("worker-1", runJobs: true), StartAsync("worker-2", runJobs: true),
        ];
        try
        {
            var started = await Task.WhenAll(starting);
            Replicas = started[..2];
            Workers.AddRange(started[2..]);
        }
        catch
        {
            // A process that did start must not outlive the failed fixture.
            foreach (var task in starting.Where(t => t.IsCompletedSuccessfully))
            {
                task.Result.Dispose();
            }
            throw;
        }
    }

    public Task<ServiceProcess> StartAsync(string name, bool runJobs)
    {
        var folder = ModelServiceFactory.NewStorageFolder();
        _folders.Add(folder);
        return ServiceProcess.StartAsync(folder, new Dictionary<string, string>
        {
            ["Storage__Provider"] = "postgres",
            ["ConnectionStrings__Postgres"] = ConnectionString,
            ["Training__RunJobs"] = runJobs ? "true" : "false",
            ["Training__LeaseSeconds"] = LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Training__PollMilliseconds"] = "250",
            ["Cluster__InstanceName"] = name,
        });
    }

    public Task DisposeAsync()
    {
        foreach (var process in Replicas.Concat(Workers))
        {
            process.Dispose();
        }
        foreach (var folder in _folders)
        {
            ModelServiceFactory.DeleteStorage(folder);
        }
        return Task.CompletedTask;
    }
}

[RequiresPostgres]
public sealed class ClusterTests(ClusterFixture cluster, ITestOutputHelper log) : IClassFixture<ClusterFixture>
{
    private static readonly object Probe = new { records = new[] { new { square_footage = 0.5, rooms = 0.5 } } };

    private HttpClient A => cluster.Replicas[0].Client;

    private HttpClient B => cluster.Replicas[1].Client;

    [StoreFact]
    public async Task Four_processes_starting_at_once_on_an_empty_database_end_with_one_schema_and_one_default_model()
    {
        var active = await Task.WhenAll(cluster.Replicas.Concat(cluster.Workers)
            .Select(async p => (await p.Client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString()));

        var models = (await A.GetJsonAsync("/api/v1/models")).EnumerateArray();
        var defaults = models.Where(m => m.GetProperty("tags") is var tags && !tags.TryGetProperty("importedFrom", out _)
            && tags.TryGetProperty("source", out var source) && source.GetString() == "bundled-default");
        Assert.Single(defaults);
        Assert.Single(active.Distinct());
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync();
        await using var versions = new NpgsqlCommand("SELECT count(*), count(DISTINCT version) FROM schema_migrations", connection);
        await using var reader = await versions.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(reader.GetInt64(1), reader.GetInt64(0));
        Assert.True(reader.GetInt64(0) >= 1);
    }

    [StoreFact]
    public async Task A_job_submitted_on_one_replica_runs_on_a_worker_and_streams_live_on_the_other()
    {
        var dataset = (await A.UploadCsvAsync(TestData.HousesCsv(400, seed: 21))).GetProperty("id").GetString();
        Assert.Equal(dataset, (await B.GetJsonAsync($"/api/v1/datasets/{dataset}")).GetProperty("id").GetString());
        var job = (await A.SubmitAsync(new { datasetId = dataset, target = "price", epochs = 15, activate = false })).GetProperty("id").GetString();

        var (epochs, outcome) = await FollowAsync(B, job!);

        Assert.Equal(Enumerable.Range(1, 15), epochs);
        Assert.Equal("succeeded", outcome.GetProperty("status").GetString());
        var finished = await B.GetJsonAsync($"/api/v1/training-jobs/{job}");
        Assert.StartsWith("worker-", finished.GetProperty("worker").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, finished.GetProperty("attempts").GetInt32());
    }

    [StoreFact]
    public async Task A_cancel_on_one_replica_stops_the_job_on_its_worker_within_two_seconds()
    {
        var running = await StartLongJobAsync(A);

        var stopwatch = Stopwatch.StartNew();
        await ServiceApi.ExpectAsync(await B.PostAsync(new Uri($"/api/v1/training-jobs/{running}/cancel", UriKind.Relative), null), HttpStatusCode.Accepted);
        var cancelled = await A.WaitForJobAsync(running);
        stopwatch.Stop();

        log.WriteLine($"cancel on replica-b to job cancelled on its worker: {stopwatch.ElapsedMilliseconds} ms");
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"Took {stopwatch.ElapsedMilliseconds} ms.");
    }

    [StoreFact]
    public async Task An_activation_on_one_replica_is_used_by_every_replica_within_two_seconds()
    {
        var dataset = (await A.UploadCsvAsync(TestData.HousesCsv(200, seed: 22))).GetProperty("id").GetString();
        var trained = await A.TrainAsync(new { datasetId = dataset, target = "price", epochs = 2, activate = false });
        var model = trained.GetProperty("modelId").GetString()!;

        var stopwatch = Stopwatch.StartNew();
        await ServiceApi.ExpectAsync(await A.PostAsync(new Uri($"/api/v1/models/{model}/activate", UriKind.Relative), null), HttpStatusCode.OK);
        var replicas = cluster.Replicas.Concat(cluster.Workers).Select(p => p.Client).ToList();
        var seen = await Task.WhenAll(replicas.Select(async client =>
        {
            while (stopwatch.Elapsed < TimeSpan.FromSeconds(10))
            {
                var response = await client.PostAsJsonAsync("/api/v1/predictions", Probe);
                if ((await ServiceApi.ExpectAsync(response, HttpStatusCode.OK)).GetProperty("modelId").GetString() == model)
                {
                    return stopwatch.Elapsed;
                }
                await Task.Delay(20);
            }
            return stopwatch.Elapsed;
        }));

        log.WriteLine($"activation to predictions on each process (replicas, then workers): "
            + string.Join(", ", seen.Select(s => $"{s.TotalMilliseconds:F0} ms")));
        // The replicas are what a load balancer sends predictions to; workers follow too, and are held to the
        // pointer poll plus loading the model on a busy machine.
        Assert.All(seen[..2], s => Assert.True(s < TimeSpan.FromSeconds(2), $"A replica took {s.TotalMilliseconds:F0} ms."));
        Assert.All(seen[2..], s => Assert.True(s < TimeSpan.FromSeconds(5), $"A worker took {s.TotalMilliseconds:F0} ms."));
    }

    [StoreFact]
    public async Task A_model_imported_on_one_replica_exports_with_identical_bytes_from_the_other()
    {
        var active = (await A.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString();
        var archive = await A.GetByteArrayAsync(new Uri($"/api/v1/models/{active}/artifact", UriKind.Relative));
        var imported = await ServiceApi.ExpectAsync(await A.PostAsync(new Uri("/api/v1/models", UriKind.Relative),
            ServiceApi.Bytes(archive, "application/gzip")), HttpStatusCode.Created);
        var id = imported.GetProperty("id").GetString();

        var fromA = await A.GetByteArrayAsync(new Uri($"/api/v1/models/{id}/artifact", UriKind.Relative));
        var fromB = await B.GetByteArrayAsync(new Uri($"/api/v1/models/{id}/artifact", UriKind.Relative));

        Assert.Equal(fromA, fromB);
    }

    [StoreFact]
    public async Task After_kill_9_of_its_worker_a_job_runs_again_on_another_worker()
    {
        var running = await StartLongJobAsync(A);
        var job = await A.GetJsonAsync($"/api/v1/training-jobs/{running}");
        var victim = cluster.Workers.Single(w => w.Output.Contains(running, StringComparison.Ordinal));

        var stopwatch = Stopwatch.StartNew();
        victim.KillHard();
        var taken = await A.WaitForJobAsync(running, j => j.GetProperty("status").GetString() is var status
            && (status == "running" && j.GetProperty("attempts").GetInt32() == 2 || status is "succeeded" or "failed" or "cancelled"));
        stopwatch.Stop();
        cluster.Workers.Remove(victim);
        victim.Dispose();
        cluster.Workers.Add(await cluster.StartAsync($"worker-{Guid.NewGuid():N}"[..15], runJobs: true));

        log.WriteLine($"kill -9 of {job.GetProperty("worker")} to job running on {taken.GetProperty("worker")}: {stopwatch.ElapsedMilliseconds} ms "
            + $"(lease {ClusterFixture.LeaseSeconds} s)");
        Assert.Equal("running", taken.GetProperty("status").GetString());
        Assert.NotEqual(job.GetProperty("worker").GetString(), taken.GetProperty("worker").GetString());
        await B.PostAsync(new Uri($"/api/v1/training-jobs/{running}/cancel", UriKind.Relative), null);
        Assert.Equal("cancelled", (await A.WaitForJobAsync(running)).GetProperty("status").GetString());
    }

    [StoreFact]
    public async Task Predictions_keep_answering_while_the_database_restarts_and_writes_answer_503_until_it_is_back()
    {
        Assert.True(cluster.Server.CanRestart, "The cluster test needs PostgreSQL binaries to restart its database.");
        var before = await A.PredictAsync(Probe);
        using var stop = new CancellationTokenSource();
        var predictions = Task.Run(async () =>
        {
            var count = 0;
            while (!stop.IsCancellationRequested)
            {
                foreach (var client in new[] { A, B })
                {
                    Assert.Equal(before, await client.PredictAsync(Probe));
                    count++;
                }
            }
            return count;
        });

        cluster.Server.Stop();
        try
        {
            var write = await A.PostAsync(new Uri("/api/v1/datasets?name=x", UriKind.Relative), ServiceApi.Csv(TestData.HousesCsv(10, 1)));
            var problem = await ServiceApi.ExpectProblemAsync(write, HttpStatusCode.ServiceUnavailable);
            Assert.Equal(TimeSpan.FromSeconds(5), write.Headers.RetryAfter?.Delta);
            Assert.Equal("Storage unavailable", problem.GetProperty("title").GetString());
            var ready = await B.GetAsync(new Uri("/health/ready", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Contains("Degraded", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await A.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
            await Task.Delay(1000);
        }
        finally
        {
            cluster.Server.Start();
        }
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var write = await B.PostAsync(new Uri("/api/v1/datasets?name=back", UriKind.Relative), ServiceApi.Csv(TestData.HousesCsv(10, 1)));
            if (write.StatusCode == HttpStatusCode.Created)
            {
                break;
            }
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"Writes did not recover: {(int)write.StatusCode}");
            await Task.Delay(200);
        }
        await stop.CancelAsync();
        var answered = await predictions;

        log.WriteLine($"{answered} predictions answered during the database restart; writes back {stopwatch.ElapsedMilliseconds} ms after the start");
        Assert.True(answered > 0);
    }

    private static async Task<string> StartLongJobAsync(HttpClient client)
    {
        var dataset = (await client.UploadCsvAsync(TestData.HousesCsv(2000, seed: 23))).GetProperty("id").GetString();
        var job = (await client.SubmitAsync(new { datasetId = dataset, target = "price", epochs = 1000, batchSize = 1, activate = false }))
            .GetProperty("id").GetString()!;
        await client.WaitForJobAsync(job, j => j.GetProperty("progress").GetProperty("epoch").GetInt32() >= 1);
        return job;
    }

    /// <summary>Reads a job's SSE stream to its end: the epoch numbers in order and the outcome.</summary>
    private static async Task<(List<int> Epochs, JsonElement Outcome)> FollowAsync(HttpClient client, string job)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        using var stream = await client.GetStreamAsync(new Uri($"/api/v1/training-jobs/{job}/events", UriKind.Relative), timeout.Token);
        using var reader = new StreamReader(stream);
        var epochs = new List<int>();
        string? type = null;
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                var data = JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
                if (type == "outcome")
                {
                    return (epochs, data);
                }
                epochs.Add(data.GetProperty("epoch").GetInt32());
            }
        }
        throw new InvalidOperationException("The stream ended without an outcome.");
    }
}
