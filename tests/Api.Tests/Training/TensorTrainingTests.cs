using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ModelService.Api.Tests.Datasets;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Inference;

namespace ModelService.Api.Tests.Training;

/// <summary>Training on tensor datasets through POST /api/v1/training-jobs: the head follows the target's shape, the
/// model's architecture shows what grows with H x W, and requests that do not fit the dataset are 400s naming the field
/// that leave no job behind.</summary>
public sealed class TensorTrainingTests(ModelServiceFactory factory) : IClassFixture<ModelServiceFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A_per_position_target_trains_a_per_position_model_whose_architecture_shows_no_parameter_growing_with_h_x_w()
    {
        var data = TensorSamples.PerPosition(count: 150, height: 8, width: 8, channels: 3, seed: 1);
        var datasetId = await UploadAsync(_client, data);

        var job = await _client.TrainAsync(new { datasetId, epochs = 8, learningRate = 0.01, activate = false });

        var request = job.GetProperty("request");
        Assert.Equal("per-position", request.GetProperty("head").GetString());
        Assert.Equal(JsonValueKind.Null, request.GetProperty("target").ValueKind);
        Assert.Equal(JsonValueKind.Null, request.GetProperty("features").ValueKind);
        var model = await _client.GetJsonAsync($"/api/v1/models/{job.GetProperty("modelId").GetString()}");
        Assert.Equal("tensor", model.GetProperty("inputKind").GetString());
        Assert.Equal("y", model.GetProperty("target").GetString());
        Assert.Equal([8, 8], model.GetProperty("targetShape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(["channel_0", "channel_1", "channel_2"], model.GetProperty("features").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        var architecture = model.GetProperty("architecture");
        Assert.Equal([8, 8, 3], architecture.GetProperty("inputShape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal("per-position", architecture.GetProperty("head").GetString());
        // conv 3->16 (64), conv 16->8 (136), conv 8->1 (9): the same on any H x W.
        Assert.Equal(209, architecture.GetProperty("parameterCount").GetInt64());
        Assert.Equal(0, architecture.GetProperty("positionDependentParameterCount").GetInt64());
        Assert.Equal([("conv1x1", 3, 16, 64L), ("conv1x1", 16, 8, 136L), ("conv1x1", 8, 1, 9L)], Layers(architecture));
        // y = 3 x0 - 2 x1 with x uniform in [0, 1) has a standard deviation of about 1.04.
        var validation = model.GetProperty("metrics").GetProperty("validation");
        Assert.True(validation.GetProperty("rmse").GetDouble() < 0.1, $"validation RMSE {validation}");
        Assert.Equal((120, 30), (model.GetProperty("training").GetProperty("trainRows").GetInt32(),
            model.GetProperty("training").GetProperty("validationRows").GetInt32()));
    }

    [Fact]
    public async Task An_npz_written_by_numpy_savez_trains_leaving_out_the_sample_whose_target_has_a_nan()
    {
        var fixture = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Data", "tensor_savez.npz"));
        var upload = await _client.PostAsync(new Uri("/api/v1/datasets?name=savez", UriKind.Relative),
            ServiceApi.Bytes(fixture, "application/x-npz"));
        var datasetId = (await ServiceApi.ExpectAsync(upload, HttpStatusCode.Created)).GetProperty("id").GetString();

        var job = await _client.TrainAsync(new { datasetId, epochs = 2, batchSize = 1, activate = false });

        var model = await _client.GetJsonAsync($"/api/v1/models/{job.GetProperty("modelId").GetString()}");
        // Three samples of [4, 5, 2]; y[2, 0, 0] is NaN, so sample 2 is left out; x[1, 2, 3, 1] is NaN and imputed.
        var training = model.GetProperty("training");
        Assert.Equal((1, 1, 1), (training.GetProperty("trainRows").GetInt32(), training.GetProperty("validationRows").GetInt32(),
            training.GetProperty("droppedRows").GetInt32()));
        Assert.Equal([4, 5, 2], model.GetProperty("architecture").GetProperty("inputShape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal("per-position", model.GetProperty("architecture").GetProperty("head").GetString());
        Assert.True(double.IsFinite(model.GetProperty("metrics").GetProperty("validation").GetProperty("rmse").GetDouble()));
    }

    [Fact]
    public async Task A_per_sample_target_trains_a_flatten_dense_model_whose_dense_weights_grow_with_h_x_w()
    {
        var datasetId = await UploadAsync(_client, TensorSamples.PerSample(count: 120, height: 4, width: 4, channels: 2, seed: 2));

        var job = await _client.TrainAsync(new { datasetId, epochs = 3, activate = false });

        Assert.Equal("flatten-dense", job.GetProperty("request").GetProperty("head").GetString());
        var model = await _client.GetJsonAsync($"/api/v1/models/{job.GetProperty("modelId").GetString()}");
        Assert.Empty(model.GetProperty("targetShape").EnumerateArray());
        var architecture = model.GetProperty("architecture");
        Assert.Equal("flatten-dense", architecture.GetProperty("head").GetString());
        // conv 2->16 (48), conv 16->8 (136), flatten 4x4x8 = 128, dense 128->1 (129, of which 128 weights per position).
        Assert.Equal(313, architecture.GetProperty("parameterCount").GetInt64());
        Assert.Equal(128, architecture.GetProperty("positionDependentParameterCount").GetInt64());
        Assert.Equal([("flatten", 8, 128, 0L), ("dense", 128, 1, 129L)], Layers(architecture).Skip(2));
    }

    [Fact]
    public async Task A_tensor_model_leaves_as_an_archive_and_imports_back_predicting_the_same()
    {
        var datasetId = await UploadAsync(_client, TensorSamples.PerPosition(count: 40, height: 3, width: 5, channels: 2, seed: 3));
        var modelId = (await _client.TrainAsync(new { datasetId, epochs = 2, activate = false })).GetProperty("modelId").GetString();

        var archive = await (await _client.GetAsync(new Uri($"/api/v1/models/{modelId}/artifact", UriKind.Relative))).Content.ReadAsByteArrayAsync();
        var import = await _client.PostAsync(new Uri("/api/v1/models", UriKind.Relative), ServiceApi.Bytes(archive, "application/gzip"));

        var imported = await ServiceApi.ExpectAsync(import, HttpStatusCode.Created);
        Assert.Equal("tensor", imported.GetProperty("inputKind").GetString());
        Assert.Equal("per-position", imported.GetProperty("architecture").GetProperty("head").GetString());
        var original = Predictor(archive);
        var x = TensorSamples.PerPosition(count: 2, height: 6, width: 7, channels: 2, seed: 4).X;
        var before = new double[2 * 42];
        original.PredictTensor(x, 2, 6, 7, before);
        var importedArchive = await (await _client.GetAsync(new Uri($"/api/v1/models/{imported.GetProperty("id").GetString()}/artifact",
            UriKind.Relative))).Content.ReadAsByteArrayAsync();
        var after = new double[2 * 42];
        Predictor(importedArchive).PredictTensor(x, 2, 6, 7, after);
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task A_head_that_does_not_fit_the_datasets_target_is_a_400_naming_head_and_queues_nothing()
    {
        using var isolated = new ModelServiceFactory();
        var client = isolated.CreateClient();
        var perPosition = await UploadAsync(client, TensorSamples.PerPosition(count: 10, height: 2, width: 2, channels: 1, seed: 5));
        var perSample = await UploadAsync(client, TensorSamples.PerSample(count: 10, height: 2, width: 2, channels: 1, seed: 5));
        var table = (await client.UploadCsvAsync(TestData.HousesCsv(20, seed: 1))).GetProperty("id").GetString();

        var dense = await Refused(client, new { datasetId = perPosition, head = "flatten-dense" }, "head");
        var position = await Refused(client, new { datasetId = perSample, head = "per-position" }, "head");
        var onTable = await Refused(client, new { datasetId = table, target = "price", head = "per-position" }, "head");

        Assert.Contains("per-position", Detail(dense), StringComparison.Ordinal);
        Assert.Contains("flatten-dense", Detail(position), StringComparison.Ordinal);
        Assert.Contains("table", Detail(onTable), StringComparison.Ordinal);
        Assert.Equal(0, (await client.GetJsonAsync("/api/v1/training-jobs")).GetArrayLength());
    }

    [Fact]
    public async Task Target_and_features_are_refused_for_a_tensor_dataset_and_target_is_still_required_for_a_table()
    {
        using var isolated = new ModelServiceFactory();
        var client = isolated.CreateClient();
        var tensor = await UploadAsync(client, TensorSamples.PerSample(count: 10, height: 2, width: 2, channels: 1, seed: 6));
        var table = (await client.UploadCsvAsync(TestData.HousesCsv(20, seed: 1))).GetProperty("id").GetString();

        await Refused(client, new { datasetId = tensor, target = "y" }, "target");
        await Refused(client, new { datasetId = tensor, features = new[] { "x" } }, "features");
        var noTarget = await Refused(client, new { datasetId = table }, "target");

        Assert.Equal("'target' is required: the name of the numeric column to predict.",
            noTarget.GetProperty("errors").GetProperty("target")[0].GetString());
        Assert.Equal(0, (await client.GetJsonAsync("/api/v1/training-jobs")).GetArrayLength());
    }

    [Fact]
    public async Task A_sweep_on_a_tensor_dataset_is_a_400_naming_datasetId()
    {
        var datasetId = await UploadAsync(_client, TensorSamples.PerSample(count: 10, height: 2, width: 2, channels: 1, seed: 7));

        var response = await _client.PostAsJsonAsync("/api/v1/sweeps", new { datasetId, grid = new { learningRate = new[] { 0.001, 0.01 } } });

        var problem = await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "datasetId");
        Assert.Contains("tensor dataset", problem.GetProperty("errors").GetProperty("datasetId")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flatten_dense_head_over_the_parameter_limit_says_its_weights_grow_with_h_x_w()
    {
        using var limited = new ModelServiceFactory(new Dictionary<string, string?> { ["Training:MaxParameters"] = "5000" });
        var client = limited.CreateClient();
        var wide = await UploadAsync(client, TensorSamples.PerSample(count: 4, height: 32, width: 32, channels: 1, seed: 8));
        var perPosition = await UploadAsync(client, TensorSamples.PerPosition(count: 4, height: 32, width: 32, channels: 1, seed: 8));

        var problem = await Refused(client, new { datasetId = wide }, "hiddenChannels");
        var accepted = await client.SubmitAsync(new { datasetId = perPosition, epochs = 1, activate = false });

        Assert.Contains("grows with H x W", problem.GetProperty("errors").GetProperty("hiddenChannels")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal("per-position", accepted.GetProperty("request").GetProperty("head").GetString());
    }

    [Fact]
    public async Task A_flatten_dense_head_whose_weights_pass_two_billion_is_refused_not_wrapped_around()
    {
        // 725 x 725 positions x 4096 channels = 2,152,960,000 dense weights: past the 32-bit range.
        var datasetId = await UploadAsync(_client, TensorSamples.PerSample(count: 1, height: 725, width: 725, channels: 1, seed: 11));

        var problem = await Refused(_client, new { datasetId, hiddenChannels = new[] { 4096 } }, "hiddenChannels");

        Assert.Contains("2152960000 of them in the flatten-dense head", Detail(problem), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tensor_dataset_over_the_working_set_limit_is_a_400_naming_datasetId()
    {
        using var limited = new ModelServiceFactory(new Dictionary<string, string?> { ["Training:MaxWorkingSetBytes"] = "1048576" });
        var client = limited.CreateClient();
        var datasetId = await UploadAsync(client, TensorSamples.PerPosition(count: 200, height: 16, width: 16, channels: 2, seed: 9));

        var problem = await Refused(client, new { datasetId }, "datasetId");

        Assert.Contains("Training:MaxWorkingSetBytes", problem.GetProperty("errors").GetProperty("datasetId")[0].GetString(),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Swagger_lists_the_heads_and_offers_a_table_and_a_tensor_example_that_the_service_accepts()
    {
        var datasets = new Dictionary<string, string?>
        {
            ["table"] = (await _client.UploadCsvAsync(TestData.HousesCsv(30, seed: 10))).GetProperty("id").GetString(),
            ["tensor"] = await UploadAsync(_client, TensorSamples.PerPosition(count: 10, height: 2, width: 3, channels: 2, seed: 10)),
        };
        var document = await _client.GetJsonAsync("/swagger/v1/swagger.json");
        var examples = document.GetProperty("paths").GetProperty("/api/v1/training-jobs").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("examples");

        var head = document.GetProperty("components").GetProperty("schemas").GetProperty("TrainingRequest").GetProperty("properties")
            .GetProperty("head");
        Assert.Equal(["flatten-dense", "per-position"], head.GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        foreach (var (name, datasetId) in datasets)
        {
            var body = examples.GetProperty(name).GetProperty("value").GetRawText().Replace("ds_replace_me_", datasetId, StringComparison.Ordinal);
            var job = await ServiceApi.ExpectAsync(await _client.PostAsync(new Uri("/api/v1/training-jobs", UriKind.Relative),
                ServiceApi.JsonBody(body)), HttpStatusCode.Accepted);
            Assert.Equal(name == "table" ? "flatten-dense" : "per-position", job.GetProperty("request").GetProperty("head").GetString());
        }
    }

    /// <summary>Uploads <paramref name="data"/> as the .npz numpy.savez would write; the dataset's id.</summary>
    private static async Task<string> UploadAsync(HttpClient client, TensorData data) =>
        (await ServiceApi.ExpectAsync(await client.PostAsync(new Uri("/api/v1/datasets?name=tiles", UriKind.Relative),
            ServiceApi.Bytes(TensorSamples.Npz(data), "application/x-npz")), HttpStatusCode.Created)).GetProperty("id").GetString()!;

    private static async Task<JsonElement> Refused(HttpClient client, object request, string field) =>
        await ServiceApi.ExpectProblemAsync(await client.PostAsJsonAsync("/api/v1/training-jobs", request), HttpStatusCode.BadRequest, field);

    private static string Detail(JsonElement problem) =>
        string.Join(" ", problem.GetProperty("errors").EnumerateObject().SelectMany(e => e.Value.EnumerateArray().Select(m => m.GetString())));

    private static IEnumerable<(string?, int, int, long)> Layers(JsonElement architecture) =>
        architecture.GetProperty("layers").EnumerateArray().Select(l => (l.GetProperty("type").GetString(), l.GetProperty("inChannels").GetInt32(),
            l.GetProperty("outChannels").GetInt32(), l.GetProperty("parameters").GetInt64()));

    private static Predictor Predictor(byte[] archive)
    {
        using var gzip = new GZipStream(new MemoryStream(archive), CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        var files = new Dictionary<string, byte[]>();
        while (tar.GetNextEntry() is { } entry)
        {
            using var content = new MemoryStream();
            entry.DataStream?.CopyTo(content);
            files[entry.Name] = content.ToArray();
        }
        return new Predictor(ModelArtifact.Load(new ModelFiles(files["manifest.json"], files["weights.bin"]), "archive"));
    }
}
