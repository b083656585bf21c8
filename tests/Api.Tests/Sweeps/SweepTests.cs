using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace ModelService.Api.Tests.Sweeps;

/// <summary>POST/GET /api/v1/sweeps end to end on the seed example's data: trials ranked, best models kept and tagged.</summary>
public sealed class SweepTests(ModelServiceFactory factory) : IClassFixture<ModelServiceFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A_grid_sweep_ranks_every_combination_keeps_the_best_as_tagged_models_and_activates_the_first()
    {
        var datasetId = await UploadAsync(300, seed: 11);

        var sweep = await RunSweepAsync(new
        {
            datasetId, target = "price",
            @base = new { hiddenChannels = new[] { 8 }, epochs = 4, batchSize = 32, seed = 3 },
            grid = new { learningRate = new[] { 0.001, 0.01, 0.05 }, weightDecay = new[] { 0, 0.001 } },
            keep = 2, activateBest = true,
        });

        var trials = sweep.GetProperty("trials").EnumerateArray().ToArray();
        Assert.Equal(6, trials.Length);
        Assert.All(trials, t =>
        {
            Assert.Equal("succeeded", t.GetProperty("status").GetString());
            Assert.Equal(4, Assert.Single(t.GetProperty("runs").EnumerateArray()).GetProperty("history").GetArrayLength());
        });
        Assert.Equal([0.001, 0.001, 0.01, 0.01, 0.05, 0.05], trials.Select(t => t.GetProperty("settings").GetProperty("learningRate").GetDouble()));
        Assert.Equal([0, 0.001, 0, 0.001, 0, 0.001], trials.Select(t => t.GetProperty("settings").GetProperty("weightDecay").GetDouble()));
        var board = sweep.GetProperty("leaderboard").EnumerateArray().ToArray();
        var scores = board.Select(e => e.GetProperty("score").GetDouble()).ToArray();
        Assert.Equal(scores.Order(), scores);
        Assert.Equal([1, 2, 3, 4, 5, 6], board.Select(e => e.GetProperty("rank").GetInt32()));
        Assert.Equal(6, board.Select(e => e.GetProperty("trial").GetInt32()).Distinct().Count());

        var bestId = board[0].GetProperty("modelId").GetString();
        Assert.Equal(bestId, sweep.GetProperty("bestModelId").GetString());
        Assert.NotNull(board[1].GetProperty("modelId").GetString());
        Assert.All(board.Skip(2), e => Assert.Equal(JsonValueKind.Null, e.GetProperty("modelId").ValueKind));
        var best = await _client.GetJsonAsync($"/api/v1/models/{bestId}");
        var tags = best.GetProperty("tags");
        Assert.Equal(sweep.GetProperty("id").GetString(), tags.GetProperty("sweepId").GetString());
        Assert.Equal(board[0].GetProperty("trial").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), tags.GetProperty("trial").GetString());
        Assert.Equal(board[0].GetProperty("settings").GetProperty("learningRate").GetDouble(),
            double.Parse(tags.GetProperty("learningRate").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(tags.TryGetProperty("weightDecay", out _));
        // Without folds the kept model is the scored run: its validation RMSE is the trial's score.
        Assert.Equal(board[0].GetProperty("score").GetDouble(), best.GetProperty("metrics").GetProperty("validation").GetProperty("rmse").GetDouble(), 6);
        Assert.Equal(bestId, (await _client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString());
        Assert.Contains(sweep.GetProperty("id").GetString(), (await _client.GetJsonAsync("/api/v1/sweeps")).EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        Assert.DoesNotContain((await _client.GetJsonAsync("/api/v1/training-jobs")).EnumerateArray(),
            j => j.GetProperty("id").GetString() == sweep.GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_grid_over_learning_rate_schedules_trains_each_and_the_kept_model_records_its_schedule()
    {
        var datasetId = await UploadAsync(300, seed: 12);

        var sweep = await RunSweepAsync(new
        {
            datasetId, target = "price",
            @base = new { hiddenChannels = new[] { 8 }, epochs = 4, batchSize = 32, seed = 3, learningRate = 0.01 },
            grid = new { learningRateSchedule = new[] { "constant", "cosine" } },
        });

        var trials = sweep.GetProperty("trials").EnumerateArray().ToArray();
        Assert.Equal(["constant", "cosine"], trials.Select(t => t.GetProperty("settings").GetProperty("learningRateSchedule").GetString()));
        var scores = trials.Select(t => t.GetProperty("score").GetDouble()).ToArray();
        Assert.NotEqual(scores[0], scores[1]);
        var best = sweep.GetProperty("leaderboard")[0];
        var model = await _client.GetJsonAsync($"/api/v1/models/{best.GetProperty("modelId").GetString()}");
        Assert.Equal(best.GetProperty("settings").GetProperty("learningRateSchedule").GetString(),
            model.GetProperty("training").GetProperty("learningRateSchedule").GetString());
    }

    [Fact]
    public async Task A_random_sweep_with_folds_draws_within_its_ranges_and_ranks_by_the_mean_over_folds()
    {
        var datasetId = await UploadAsync(240, seed: 12);
        var activeBefore = (await _client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString();

        var sweep = await RunSweepAsync(new
        {
            datasetId, target = "price", folds = 3, metric = "mae",
            @base = new { epochs = 3, batchSize = 32 },
            random = new
            {
                trials = 4, seed = 5, learningRate = new { min = 0.001, max = 0.02 },
                hiddenChannels = new[] { new[] { 4 }, new[] { 8, 4 } },
            },
        });

        var trials = sweep.GetProperty("trials").EnumerateArray().ToArray();
        Assert.Equal(4, trials.Length);
        Assert.All(trials, t =>
        {
            var rate = t.GetProperty("settings").GetProperty("learningRate").GetDouble();
            Assert.InRange(rate, 0.001, 0.02);
            Assert.Equal([0, 1, 2], t.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("fold").GetInt32()));
        });
        Assert.True(trials.Select(t => t.GetProperty("settings").GetProperty("learningRate").GetDouble()).Distinct().Count() > 1);
        var board = sweep.GetProperty("leaderboard").EnumerateArray().ToArray();
        Assert.Equal(4, board.Length);
        Assert.All(board, e =>
        {
            var folds = e.GetProperty("foldScores").EnumerateArray().Select(f => f.GetDouble()).ToArray();
            Assert.Equal(3, folds.Length);
            Assert.Equal(folds.Average(), e.GetProperty("score").GetDouble(), 9);
            Assert.True(e.GetProperty("spread").GetDouble() > 0);
        });
        var best = await _client.GetJsonAsync($"/api/v1/models/{sweep.GetProperty("bestModelId").GetString()}");
        Assert.Equal(board[0].GetProperty("trial").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
            best.GetProperty("tags").GetProperty("trial").GetString());
        Assert.Equal(activeBefore, (await _client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("""{"random": {"trials": 1000, "learningRate": {"min": 0.001, "max": 0.1}}}""", "random.trials")]
    [InlineData("""{"grid": {"learningRate": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], "weightDecay": [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]}}""", "grid")]
    [InlineData("""{"folds": 1, "grid": {"learningRate": [0.01]}}""", "folds")]
    [InlineData("""{"grid": {"activation": ["relu", "swish"]}}""", "grid.activation[1]")]
    [InlineData("""{"grid": {"learningRateSchedule": ["step"]}}""", "grid.learningRateSchedule[0]")]
    [InlineData("""{"metric": "r2", "grid": {"learningRate": [0.01]}}""", "metric")]
    [InlineData("""{"grid": {"learningRate": [0.01, 50]}}""", "grid.learningRate")]
    [InlineData("""{"base": {"learningRate": -1}, "grid": {"weightDecay": [0]}}""", "base.learningRate")]
    [InlineData("""{"grid": {"learningRate": [0.01]}, "random": {"trials": 2}}""", "grid")]
    [InlineData("""{"grid": {"learningRate": []}}""", "grid.learningRate")]
    [InlineData("""{"random": {"trials": 2, "weightDecay": {"min": 0, "max": 0.1}}}""", "random.weightDecay")]
    [InlineData("""{"keep": 3, "grid": {"learningRate": [0.01, 0.1]}}""", "keep")]
    [InlineData("""{"base": {"validationFraction": 0}, "grid": {"learningRate": [0.01]}}""", "base.validationFraction")]
    [InlineData("""{"grid": {"learningRate": [0.01]}, "shuffle": true}""", "shuffle")]
    public async Task A_bad_sweep_is_a_400_naming_the_field_and_queues_nothing(string fields, string field)
    {
        var datasetId = await UploadAsync(50, seed: 13);
        var body = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(fields)!;
        body["datasetId"] = JsonSerializer.SerializeToElement(datasetId);
        body["target"] = JsonSerializer.SerializeToElement("price");
        var sweepsBefore = (await _client.GetJsonAsync("/api/v1/sweeps")).GetArrayLength();
        var jobsBefore = (await _client.GetJsonAsync("/api/v1/training-jobs")).GetArrayLength();

        var response = await _client.PostAsJsonAsync("/api/v1/sweeps", body);

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Equal(sweepsBefore, (await _client.GetJsonAsync("/api/v1/sweeps")).GetArrayLength());
        Assert.Equal(jobsBefore, (await _client.GetJsonAsync("/api/v1/training-jobs")).GetArrayLength());
    }

    [Fact]
    public async Task An_unknown_target_or_dataset_is_refused_with_its_field()
    {
        var datasetId = await UploadAsync(50, seed: 14);

        await ServiceApi.ExpectProblemAsync(await _client.PostAsJsonAsync("/api/v1/sweeps",
            new { datasetId, target = "cost", grid = new { learningRate = new[] { 0.01 } } }), HttpStatusCode.BadRequest, "target");
        await ServiceApi.ExpectProblemAsync(await _client.PostAsJsonAsync("/api/v1/sweeps",
            new { datasetId = "ds_AAAAAAAAAAAA", target = "price", grid = new { learningRate = new[] { 0.01 } } }), HttpStatusCode.NotFound, "datasetId");
        await ServiceApi.ExpectProblemAsync(await _client.GetAsync(new Uri("/api/v1/sweeps/swp_AAAAAAAAAAAA", UriKind.Relative)), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_sweep_over_the_total_parameter_limit_is_a_400_naming_the_setting_and_queues_nothing()
    {
        using var limited = new ModelServiceFactory(new Dictionary<string, string?> { ["Sweeps:MaxTotalParameters"] = "2000" });
        var client = limited.CreateClient();
        var datasetId = (await client.UploadCsvAsync(TestData.HousesCsv(50, seed: 17))).GetProperty("id").GetString();

        var response = await client.PostAsJsonAsync("/api/v1/sweeps", new
        {
            datasetId, target = "price", @base = new { hiddenChannels = new[] { 32, 32 } }, grid = new { learningRate = new[] { 0.001, 0.01 } },
        });

        var problem = await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "grid");
        Assert.Contains("Sweeps:MaxTotalParameters", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await client.GetJsonAsync("/api/v1/sweeps")).GetArrayLength());
    }

    [Fact]
    public async Task A_cancelled_sweep_stops_keeps_no_model_and_cannot_be_cancelled_twice()
    {
        var datasetId = await UploadAsync(2000, seed: 15);
        var sweep = await SubmitAsync(new
        {
            datasetId, target = "price", @base = new { epochs = 500, batchSize = 8 },
            grid = new { learningRate = new[] { 0.001, 0.01 } },
        });
        var id = sweep.GetProperty("id").GetString()!;
        await WaitForSweepAsync(id, s => s.GetProperty("progress").GetProperty("epoch").GetInt32() > 0);

        await ServiceApi.ExpectAsync(await _client.PostAsync(new Uri($"/api/v1/sweeps/{id}/cancel", UriKind.Relative), null), HttpStatusCode.Accepted);
        var cancelled = await WaitForSweepAsync(id);

        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        Assert.All(cancelled.GetProperty("trials").EnumerateArray(), t => Assert.Equal("cancelled", t.GetProperty("status").GetString()));
        Assert.DoesNotContain((await _client.GetJsonAsync("/api/v1/models")).EnumerateArray(),
            m => m.GetProperty("tags") is { ValueKind: JsonValueKind.Object } tags && tags.TryGetProperty("sweepId", out var sweepId) && sweepId.GetString() == id);
        await ServiceApi.ExpectProblemAsync(await _client.PostAsync(new Uri($"/api/v1/sweeps/{id}/cancel", UriKind.Relative), null), HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_follower_sees_each_trials_epochs_and_end_then_the_sweeps_end_with_its_leaderboard()
    {
        var datasetId = await UploadAsync(200, seed: 16);
        var sweep = await SubmitAsync(new
        {
            datasetId, target = "price", @base = new { epochs = 3, batchSize = 32, hiddenChannels = new[] { 4 } },
            grid = new { learningRate = new[] { 0.001, 0.01 } },
        });
        var id = sweep.GetProperty("id").GetString()!;

        var events = await _client.ReadEventsAsync($"/api/v1/sweeps/{id}/events");

        var epochs = events.Where(e => e.Type == "trial-epoch").Select(e => e.Data).ToArray();
        Assert.Equal(6, epochs.Length);
        Assert.Equal([1, 2, 3], epochs.Where(e => e.GetProperty("trial").GetInt32() == 1).Select(e => e.GetProperty("epoch").GetInt32()));
        Assert.All(epochs, e => Assert.True(e.GetProperty("validationLoss").GetDouble() > 0));
        var ends = events.Where(e => e.Type == "trial-end").Select(e => e.Data).ToArray();
        Assert.Equal([0, 1], ends.Select(e => e.GetProperty("trial").GetInt32()).Order());
        Assert.All(ends, e => Assert.Equal("succeeded", e.GetProperty("status").GetString()));
        var end = events[^1];
        Assert.Equal("sweep-end", end.Type);
        Assert.Equal("succeeded", end.Data.GetProperty("status").GetString());
        Assert.Equal(2, end.Data.GetProperty("leaderboard").GetArrayLength());
        var stored = await _client.GetJsonAsync($"/api/v1/sweeps/{id}");
        Assert.Equal(stored.GetProperty("bestModelId").GetString(), end.Data.GetProperty("bestModelId").GetString());
    }

    [Fact]
    public async Task Swagger_offers_a_grid_and_a_random_example_that_the_service_accepts()
    {
        var datasetId = await UploadAsync(60, seed: 18);
        var document = await _client.GetJsonAsync("/swagger/v1/swagger.json");
        var examples = document.GetProperty("paths").GetProperty("/api/v1/sweeps").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("examples");

        foreach (var name in new[] { "grid", "random" })
        {
            var body = examples.GetProperty(name).GetProperty("value").GetRawText().Replace("ds_replace_me_", datasetId, StringComparison.Ordinal);
            var response = await _client.PostAsync(new Uri("/api/v1/sweeps", UriKind.Relative), ServiceApi.JsonBody(body));
            var sweep = await ServiceApi.ExpectAsync(response, HttpStatusCode.Accepted);
            Assert.Equal(name == "grid" ? 16 : 8, sweep.GetProperty("trials").GetArrayLength());
        }
    }

    private async Task<string> UploadAsync(int rows, int seed) =>
        (await _client.UploadCsvAsync(TestData.HousesCsv(rows, seed))).GetProperty("id").GetString()!;

    private async Task<JsonElement> SubmitAsync(object request) =>
        await ServiceApi.ExpectAsync(await _client.PostAsJsonAsync("/api/v1/sweeps", request), HttpStatusCode.Accepted);

    private async Task<JsonElement> RunSweepAsync(object request)
    {
        var sweep = await SubmitAsync(request);
        var done = await WaitForSweepAsync(sweep.GetProperty("id").GetString()!);
        Assert.True(done.GetProperty("status").GetString() == "succeeded", $"The sweep did not succeed: {done}");
        return done;
    }

    private async Task<JsonElement> WaitForSweepAsync(string id, Func<JsonElement, bool>? done = null)
    {
        done ??= s => s.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled";
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var sweep = await _client.GetJsonAsync($"/api/v1/sweeps/{id}");
            if (done(sweep))
            {
                return sweep;
            }
            Assert.True(DateTime.UtcNow < deadline, $"Sweep {id} did not reach the expected state: {sweep}");
            await Task.Delay(50);
        }
    }
}
