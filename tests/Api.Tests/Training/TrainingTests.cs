using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace ModelService.Api.Tests.Training;

public sealed class TrainingTests : IClassFixture<ModelServiceFactory>
{
    private readonly ModelServiceFactory _factory;

    public TrainingTests(ModelServiceFactory factory) => _factory = factory;

    private static async Task<string> HousesAsync(HttpClient client, int rows = 200) =>
        (await client.UploadCsvAsync(TestData.HousesCsv(rows, seed: 7), "houses")).GetProperty("id").GetString()!;

    [Fact]
    public async Task A_job_is_accepted_at_once_then_reports_progress_history_and_its_model()
    {
        var client = _factory.CreateClient();
        var datasetId = await HousesAsync(client);

        var response = await client.PostAsJsonAsync("/api/v1/training-jobs", new { datasetId, target = "price", epochs = 3, batchSize = 32 });

        var job = await ServiceApi.ExpectAsync(response, HttpStatusCode.Accepted);
        var id = job.GetProperty("id").GetString()!;
        Assert.Equal($"/api/v1/training-jobs/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("queued", job.GetProperty("status").GetString());
        var request = job.GetProperty("request");
        Assert.Equal(["square_footage", "rooms"], request.GetProperty("features").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal([16, 8], request.GetProperty("hiddenChannels").EnumerateArray().Select(c => c.GetInt32()));
        Assert.Equal("relu", request.GetProperty("activation").GetString());
        Assert.Equal("adam", request.GetProperty("optimizer").GetString());
        Assert.Equal("constant", request.GetProperty("learningRateSchedule").GetString());
        Assert.Equal(0.2, request.GetProperty("validationFraction").GetDouble());
        Assert.True(request.GetProperty("activate").GetBoolean());

        var finished = await client.WaitForJobAsync(id);

        Assert.Equal("succeeded", finished.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, finished.GetProperty("error").ValueKind);
        Assert.True(finished.GetProperty("startedAt").GetDateTimeOffset() <= finished.GetProperty("finishedAt").GetDateTimeOffset());
        var progress = finished.GetProperty("progress");
        Assert.Equal(3, progress.GetProperty("epoch").GetInt32());
        Assert.Equal(3, progress.GetProperty("epochs").GetInt32());
        Assert.True(progress.GetProperty("validationLoss").GetDouble() > 0);
        var history = finished.GetProperty("history").EnumerateArray().ToArray();
        Assert.Equal([1, 2, 3], history.Select(h => h.GetProperty("epoch").GetInt32()));
        Assert.All(history, h => Assert.True(h.GetProperty("trainLoss").GetDouble() > 0));
        var modelId = finished.GetProperty("modelId").GetString()!;
        var model = await client.GetJsonAsync($"/api/v1/models/{modelId}");
        Assert.Equal(id, model.GetProperty("trainingJobId").GetString());
        Assert.Equal(datasetId, model.GetProperty("datasetId").GetString());
        Assert.True(model.GetProperty("active").GetBoolean());
        var listed = await client.GetJsonAsync("/api/v1/training-jobs?status=succeeded");
        Assert.Contains(id, listed.EnumerateArray().Select(j => j.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task A_cosine_schedule_is_kept_with_the_job_and_its_model_and_trains_another_model_than_constant()
    {
        var client = _factory.CreateClient();
        var datasetId = await HousesAsync(client);

        async Task<(JsonElement Job, JsonElement Model)> TrainAsync(string schedule)
        {
            var response = await client.PostAsJsonAsync("/api/v1/training-jobs",
                new { datasetId, target = "price", epochs = 3, learningRateSchedule = schedule, activate = false });
            var job = await ServiceApi.ExpectAsync(response, HttpStatusCode.Accepted);
            Assert.Equal(schedule, job.GetProperty("request").GetProperty("learningRateSchedule").GetString());
            var finished = await client.WaitForJobAsync(job.GetProperty("id").GetString()!);
            Assert.Equal("succeeded", finished.GetProperty("status").GetString());
            return (finished, await client.GetJsonAsync($"/api/v1/models/{finished.GetProperty("modelId").GetString()}"));
        }

        var cosine = await TrainAsync("cosine");
        var constant = await TrainAsync("constant");

        Assert.Equal("cosine", cosine.Model.GetProperty("training").GetProperty("learningRateSchedule").GetString());
        Assert.Equal("constant", constant.Model.GetProperty("training").GetProperty("learningRateSchedule").GetString());
        double FirstLoss((JsonElement Job, JsonElement) run) => run.Job.GetProperty("history")[0].GetProperty("trainLoss").GetDouble();
        double LastLoss((JsonElement Job, JsonElement) run) => run.Job.GetProperty("history")[2].GetProperty("trainLoss").GetDouble();
        Assert.NotEqual(LastLoss(constant), LastLoss(cosine));
        Assert.NotEqual(FirstLoss(constant), FirstLoss(cosine)); // the rate falls within the first epoch already
    }

    [Fact]
    public async Task Without_validation_rows_no_validation_loss_is_reported()
    {
        var client = _factory.CreateClient();
        var datasetId = await HousesAsync(client);

        var job = await client.TrainAsync(new { datasetId, target = "price", epochs = 2, batchSize = 64, validationFraction = 0.0 });

        Assert.All(job.GetProperty("history").EnumerateArray(), h => Assert.Equal(JsonValueKind.Null, h.GetProperty("validationLoss").ValueKind));
        var model = await client.GetJsonAsync($"/api/v1/models/{job.GetProperty("modelId").GetString()}");
        Assert.Equal(JsonValueKind.Null, model.GetProperty("metrics").GetProperty("validation").ValueKind);
        Assert.Equal(0, model.GetProperty("training").GetProperty("validationRows").GetInt32());
    }

    [Fact]
    public async Task Activate_true_makes_the_new_model_the_one_predictions_use()
    {
        var client = _factory.CreateClient();
        var datasetId = await HousesAsync(client);

        var job = await client.TrainAsync(new { datasetId, target = "price", epochs = 2, batchSize = 64, activate = true });

        var active = await client.GetJsonAsync("/api/v1/models/active");
        Assert.Equal(job.GetProperty("modelId").GetString(), active.GetProperty("id").GetString());
        var prediction = await client.PostAsJsonAsync("/api/v1/predictions", new { records = new[] { new { square_footage = 0.5, rooms = 0.5 } } });
        var body = await ServiceApi.ExpectAsync(prediction, HttpStatusCode.OK);
        Assert.Equal(job.GetProperty("modelId").GetString(), body.GetProperty("modelId").GetString());
    }

    public static TheoryData<string, string> BadRequests => new()
    {
        { """{"target": "price"}""", "datasetId" },
        { """{"datasetId": "../../etc", "target": "price"}""", "datasetId" },
        { """{"datasetId": "@", "features": ["rooms"]}""", "target" },
        { """{"datasetId": "@", "target": "cost"}""", "target" },
        { """{"datasetId": "@", "target": "colour"}""", "target" },
        { """{"datasetId": "@", "target": "price", "features": ["rooms", "size"]}""", "features[1]" },
        { """{"datasetId": "@", "target": "price", "features": ["price"]}""", "features[0]" },
        { """{"datasetId": "@", "target": "price", "features": ["rooms", "rooms"]}""", "features[1]" },
        { """{"datasetId": "@", "target": "price", "features": []}""", "features" },
        { """{"datasetId": "@", "target": "price", "epochs": 0}""", "epochs" },
        { """{"datasetId": "@", "target": "price", "epochs": 1001}""", "epochs" },
        { """{"datasetId": "@", "target": "price", "batchSize": 0}""", "batchSize" },
        { """{"datasetId": "@", "target": "price", "batchSize": 65537}""", "batchSize" },
        { """{"datasetId": "@", "target": "price", "learningRate": 0}""", "learningRate" },
        { """{"datasetId": "@", "target": "price", "learningRate": 10.5}""", "learningRate" },
        { """{"datasetId": "@", "target": "price", "hiddenChannels": []}""", "hiddenChannels" },
        { """{"datasetId": "@", "target": "price", "hiddenChannels": [16, 0]}""", "hiddenChannels[1]" },
        { """{"datasetId": "@", "target": "price", "hiddenChannels": [4097]}""", "hiddenChannels[0]" },
        { """{"datasetId": "@", "target": "price", "hiddenChannels": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}""", "hiddenChannels" },
        { """{"datasetId": "@", "target": "price", "hiddenChannels": [4096, 4096]}""", "hiddenChannels" },
        { """{"datasetId": "@", "target": "price", "dropout": 1}""", "dropout" },
        { """{"datasetId": "@", "target": "price", "dropout": -0.1}""", "dropout" },
        { """{"datasetId": "@", "target": "price", "validationFraction": 0.95}""", "validationFraction" },
        { """{"datasetId": "@", "target": "price", "earlyStoppingPatience": 0}""", "earlyStoppingPatience" },
        { """{"datasetId": "@", "target": "price", "activation": "swish"}""", "activation" },
        { """{"datasetId": "@", "target": "price", "optimizer": "rmsprop"}""", "optimizer" },
        { """{"datasetId": "@", "target": "price", "weightDecay": -1}""", "weightDecay" },
        { """{"datasetId": "@", "target": "price", "epoch": 5}""", "epoch" },
        { """{"datasetId": "@", "target": "price", "epochs": 2.5}""", "epochs" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_requests_are_400_naming_the_field_and_queue_nothing(string json, string field)
    {
        var client = _factory.CreateClient();
        var dataset = await client.UploadCsvAsync("square_footage,rooms,colour,price\n0.1,0.2,red,1\n0.2,0.3,blue,2\n0.3,0.1,red,3\n");
        var before = (await client.GetJsonAsync("/api/v1/training-jobs")).GetArrayLength();

        var response = await client.PostAsync(new Uri("/api/v1/training-jobs", UriKind.Relative),
            ServiceApi.JsonBody(json.Replace("\"@\"", $"\"{dataset.GetProperty("id").GetString()}\"", StringComparison.Ordinal)));

        var problem = await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Equal(before, (await client.GetJsonAsync("/api/v1/training-jobs")).GetArrayLength());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("errors").GetProperty(field)[0].GetString()));
    }

    [Theory]
    [InlineData("activation", "\"swish\"", "relu, leaky_relu, gelu, tanh, sigmoid")]
    [InlineData("activation", "1", "relu, leaky_relu, gelu, tanh, sigmoid")]
    [InlineData("optimizer", "\"Adam\"", "adam, adamw, sgd")]
    [InlineData("learningRateSchedule", "\"linear\"", "constant, cosine")]
    public async Task An_unknown_name_is_400_naming_the_field_and_listing_the_names_it_takes(string field, string value, string names)
    {
        var client = _factory.CreateClient();
        var datasetId = await HousesAsync(client);

        var response = await client.PostAsync(new Uri("/api/v1/training-jobs", UriKind.Relative),
            ServiceApi.JsonBody($$"""{"datasetId": "{{datasetId}}", "target": "price", "{{field}}": {{value}}}"""));

        var problem = await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Contains(names, problem.GetProperty("errors").GetProperty(field)[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_range_error_is_a_problem_titled_invalid_input_naming_the_field_as_the_json_does()
    {
        var client = _factory.CreateClient();
        var datasetId = await HousesAsync(client);

        var response = await client.PostAsJsonAsync("/api/v1/training-jobs", new { datasetId, target = "price", batchSize = 0, learningRate = 11 });

        var problem = await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "batchSize");
        Assert.Equal("Invalid input", problem.GetProperty("title").GetString());
        Assert.Equal(["batchSize", "learningRate"], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order());
        Assert.Contains("65536", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_diverging_job_fails_with_advice_instead_of_storing_a_broken_model()
    {
        var client = _factory.CreateClient();
        var datasetId = await HousesAsync(client);

        var job = await client.SubmitAsync(new { datasetId, target = "price", epochs = 20, optimizer = "sgd", learningRate = 10.0 });
        var failed = await client.WaitForJobAsync(job.GetProperty("id").GetString()!);

        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains("learning rate", failed.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_constant_target_still_gives_a_readable_model()
    {
        var client = _factory.CreateClient();
        var dataset = await client.UploadCsvAsync("x,y\n0.1,5\n0.2,5\n0.3,5\n0.4,5\n0.5,5\n");

        var job = await client.TrainAsync(new { datasetId = dataset.GetProperty("id").GetString(), target = "y", epochs = 2 });

        var model = await client.GetJsonAsync($"/api/v1/models/{job.GetProperty("modelId").GetString()}");
        Assert.Equal("y", model.GetProperty("target").GetString());
        await client.GetJsonAsync("/api/v1/models");
    }

    [Fact]
    public async Task Past_the_rate_limit_submissions_are_429_with_retry_after_and_queue_nothing()
    {
        using var factory = ModelServiceFactory.WithRateLimit("Training", permitLimit: 1);
        var client = factory.CreateClient();
        var datasetId = await HousesAsync(client);
        await client.SubmitAsync(new { datasetId, target = "price", epochs = 1 });

        var response = await client.PostAsJsonAsync("/api/v1/training-jobs", new { datasetId, target = "price", epochs = 1 });

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.TooManyRequests);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(1, (await client.GetJsonAsync("/api/v1/training-jobs")).GetArrayLength());
    }

    [Fact]
    public async Task An_unknown_dataset_is_404_naming_datasetId()
    {
        var response = await _factory.CreateClient().PostAsJsonAsync("/api/v1/training-jobs", new { datasetId = "ds_AAAAAAAAAAAA", target = "price" });

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.NotFound, "datasetId");
    }

    [Theory]
    [InlineData("?status=sleeping", "status")]
    [InlineData("?limit=0", "limit")]
    public async Task Bad_list_filters_are_400(string query, string field)
    {
        var response = await _factory.CreateClient().GetAsync(new Uri($"/api/v1/training-jobs{query}", UriKind.Relative));

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Unknown_jobs_are_404()
    {
        var client = _factory.CreateClient();

        await ServiceApi.ExpectProblemAsync(await client.GetAsync(new Uri("/api/v1/training-jobs/job_AAAAAAAAAAAA", UriKind.Relative)), HttpStatusCode.NotFound);
        await ServiceApi.ExpectProblemAsync(await client.PostAsync(new Uri("/api/v1/training-jobs/job_AAAAAAAAAAAA/cancel", UriKind.Relative), null),
            HttpStatusCode.NotFound);
        await ServiceApi.ExpectProblemAsync(await client.GetAsync(new Uri("/api/v1/training-jobs/..%2Fjobs.db", UriKind.Relative)), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Cancelling_a_finished_job_is_409()
    {
        var client = _factory.CreateClient();
        var job = await client.TrainAsync(new { datasetId = await HousesAsync(client), target = "price", epochs = 1 });

        var response = await client.PostAsync(new Uri($"/api/v1/training-jobs/{job.GetProperty("id").GetString()}/cancel", UriKind.Relative), null);

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_job_whose_dataset_vanished_from_storage_fails_with_a_readable_error()
    {
        var client = _factory.CreateClient();
        var datasetId = await HousesAsync(client);
        var blocker = await client.SubmitAsync(new { datasetId = await HousesAsync(client, 2000), target = "price", epochs = 1000, batchSize = 1 });
        var job = await client.SubmitAsync(new { datasetId, target = "price", epochs = 1 });
        Directory.Delete(Path.Combine(_factory.StorageRoot, "datasets", datasetId), recursive: true);
        await client.PostAsync(new Uri($"/api/v1/training-jobs/{blocker.GetProperty("id").GetString()}/cancel", UriKind.Relative), null);

        var failed = await client.WaitForJobAsync(job.GetProperty("id").GetString()!);

        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains(datasetId, failed.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("modelId").ValueKind);
    }
}
