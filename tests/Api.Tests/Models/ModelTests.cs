using System.Net;
using System.Net.Http.Json;

namespace ModelService.Api.Tests.Models;

public sealed class ModelTests : IDisposable
{
    private readonly ModelServiceFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private static async Task<string> TrainQuickModelAsync(HttpClient client, bool activate = false)
    {
        var dataset = await client.UploadCsvAsync(TestData.HousesCsv(100, seed: 5));
        var job = await client.TrainAsync(new { datasetId = dataset.GetProperty("id").GetString(), target = "price", epochs = 1, batchSize = 50, activate });
        return job.GetProperty("modelId").GetString()!;
    }

    [Fact]
    public async Task A_fresh_store_holds_the_bundled_default_model_as_active()
    {
        var client = _factory.CreateClient();

        var models = await client.GetJsonAsync("/api/v1/models");

        var model = Assert.Single(models.EnumerateArray());
        Assert.True(model.GetProperty("active").GetBoolean());
        Assert.Equal("ready", model.GetProperty("status").GetString());
        Assert.Equal("price", model.GetProperty("target").GetString());
        Assert.Equal(["square_footage", "rooms"], model.GetProperty("features").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        Assert.All(model.GetProperty("features").EnumerateArray(), f =>
        {
            Assert.Equal("numeric", f.GetProperty("type").GetString());
            Assert.True(f.GetProperty("std").GetDouble() > 0);
        });
        var architecture = model.GetProperty("architecture");
        Assert.Equal([1, 1, 2], architecture.GetProperty("inputShape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(193, architecture.GetProperty("parameterCount").GetInt64());
        var convolutions = architecture.GetProperty("layers").EnumerateArray().Where(l => l.GetProperty("type").GetString() == "conv1x1")
            .Select(l => (l.GetProperty("inChannels").GetInt32(), l.GetProperty("outChannels").GetInt32()));
        Assert.Equal([(2, 16), (16, 8)], convolutions);
        Assert.Equal(model.GetProperty("id").GetString(), (await client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString());
        Assert.True(model.GetProperty("metrics").GetProperty("train").GetProperty("rmse").GetDouble() < 20_000);
    }

    [Fact]
    public async Task Activation_switches_the_model_predictions_use()
    {
        var client = _factory.CreateClient();
        var defaultId = (await client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString()!;
        var trained = await TrainQuickModelAsync(client);

        var activated = await client.PostAsync(new Uri($"/api/v1/models/{trained}/activate", UriKind.Relative), null);

        var info = await ServiceApi.ExpectAsync(activated, HttpStatusCode.OK);
        Assert.True(info.GetProperty("active").GetBoolean());
        var listed = await client.GetJsonAsync("/api/v1/models");
        Assert.Equal([trained, defaultId], listed.EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        Assert.Equal([true, false], listed.EnumerateArray().Select(m => m.GetProperty("active").GetBoolean()));
        var prediction = await client.PostAsJsonAsync("/api/v1/predictions", new { instances = new[] { new[] { 0.5, 0.5 } } });
        Assert.Equal(trained, (await ServiceApi.ExpectAsync(prediction, HttpStatusCode.OK)).GetProperty("modelId").GetString());
    }

    [Fact]
    public async Task The_active_model_cannot_be_deleted_but_others_can()
    {
        var client = _factory.CreateClient();
        var defaultId = (await client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString()!;
        var trained = await TrainQuickModelAsync(client);

        await ServiceApi.ExpectProblemAsync(await client.DeleteAsync(new Uri($"/api/v1/models/{defaultId}", UriKind.Relative)), HttpStatusCode.Conflict);
        var deleted = await client.DeleteAsync(new Uri($"/api/v1/models/{trained}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await ServiceApi.ExpectProblemAsync(await client.GetAsync(new Uri($"/api/v1/models/{trained}", UriKind.Relative)), HttpStatusCode.NotFound);
        await ServiceApi.ExpectProblemAsync(await client.PostAsJsonAsync("/api/v1/predictions", new { instances = new[] { new[] { 0.5, 0.5 } }, modelId = trained }),
            HttpStatusCode.NotFound, "modelId");
        Assert.Equal([defaultId], (await client.GetJsonAsync("/api/v1/models")).EnumerateArray().Select(m => m.GetProperty("id").GetString()));
    }

    [Theory]
    [InlineData("mdl_AAAAAAAAAAAA")]
    [InlineData("..%2Factive-model")]
    [InlineData("mdl_..%2F..%2Fjobs")]
    public async Task Unknown_models_are_404(string id)
    {
        var client = _factory.CreateClient();

        await ServiceApi.ExpectProblemAsync(await client.GetAsync(new Uri($"/api/v1/models/{id}", UriKind.Relative)), HttpStatusCode.NotFound);
        await ServiceApi.ExpectProblemAsync(await client.PostAsync(new Uri($"/api/v1/models/{id}/activate", UriKind.Relative), null), HttpStatusCode.NotFound);
        await ServiceApi.ExpectProblemAsync(await client.DeleteAsync(new Uri($"/api/v1/models/{id}", UriKind.Relative)), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_model_predicted_with_by_id_stays_usable_after_another_is_activated()
    {
        var client = _factory.CreateClient();
        var defaultId = (await client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString()!;
        var trained = await TrainQuickModelAsync(client, activate: true);

        var response = await client.PostAsJsonAsync("/api/v1/predictions", new { instances = new[] { new[] { 0.5, 0.5 } }, modelId = defaultId });

        var body = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Equal(defaultId, body.GetProperty("modelId").GetString());
        Assert.InRange(body.GetProperty("predictions")[0].GetDouble(), 285_000, 315_000);
        Assert.Equal(trained, (await client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString());
    }
}

/// <summary>Broken artifacts in the store: listed as invalid, never fatal.</summary>
public sealed class InvalidModelTests
{
    [Fact]
    public async Task A_corrupt_artifact_is_listed_as_invalid_and_the_default_is_installed()
    {
        var storage = ModelServiceFactory.NewStorageFolder();
        var corrupt = Path.Combine(storage, "models", "mdl_CORRUPTMODEL");
        Directory.CreateDirectory(corrupt);
        File.WriteAllText(Path.Combine(corrupt, "manifest.json"), "{ not json");
        File.WriteAllText(Path.Combine(storage, "active-model"), "mdl_CORRUPTMODEL");
        Directory.CreateDirectory(Path.Combine(storage, "models", "mdl_HALFWRITTEN1.tmp-1234"));
        var interrupted = Path.Combine(storage, "models", ".mdl_INTERRUPTED1.partial-1234");
        Directory.CreateDirectory(interrupted);
        try
        {
            using var factory = new ModelServiceFactory(null, storage);
            var log = new CapturedLog();
            var client = CapturedLog.Client(factory, log);

            var models = (await client.GetJsonAsync("/api/v1/models")).EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!);

            Assert.Equal(2, models.Count);
            Assert.False(Directory.Exists(interrupted));
            var invalid = models["mdl_CORRUPTMODEL"];
            Assert.Equal("invalid", invalid.GetProperty("status").GetString());
            Assert.False(string.IsNullOrEmpty(invalid.GetProperty("error").GetString()));
            Assert.False(invalid.GetProperty("active").GetBoolean());
            var active = await client.GetJsonAsync("/api/v1/models/active");
            Assert.Equal("bundled-default", active.GetProperty("tags").GetProperty("source").GetString());
            await ServiceApi.ExpectProblemAsync(await client.PostAsync(new Uri("/api/v1/models/mdl_CORRUPTMODEL/activate", UriKind.Relative), null),
                HttpStatusCode.Conflict);
            Assert.Equal("invalid", (await client.GetJsonAsync("/api/v1/models/mdl_CORRUPTMODEL")).GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
            Assert.Contains(log.Lines, l => l.StartsWith("Error Model \"mdl_CORRUPTMODEL\" cannot be loaded", StringComparison.Ordinal));
        }
        finally
        {
            ModelServiceFactory.DeleteStorage(storage);
        }
    }

    [Fact]
    public async Task When_the_active_model_is_damaged_the_newest_valid_model_takes_over()
    {
        var storage = ModelServiceFactory.NewStorageFolder();
        try
        {
            string defaultId, older, newest;
            using (var first = new ModelServiceFactory(null, storage))
            {
                var client = first.CreateClient();
                defaultId = (await client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString()!;
                var dataset = (await client.UploadCsvAsync(TestData.HousesCsv(100, seed: 5))).GetProperty("id").GetString();
                older = (await client.TrainAsync(new { datasetId = dataset, target = "price", epochs = 1 })).GetProperty("modelId").GetString()!;
                newest = (await client.TrainAsync(new { datasetId = dataset, target = "price", epochs = 1, activate = true })).GetProperty("modelId").GetString()!;
            }
            var weights = Path.Combine(storage, "models", newest, "weights.bin");
            File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..10]);

            using var second = new ModelServiceFactory(null, storage);
            var log = new CapturedLog();
            var restarted = CapturedLog.Client(second, log);

            Assert.Equal(older, (await restarted.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString());
            Assert.Contains(log.Lines, l => l.StartsWith($"Warning Active model \"{newest}\" is unusable; fell back to the newest valid model \"{older}\"",
                StringComparison.Ordinal));
            var statuses = (await restarted.GetJsonAsync("/api/v1/models")).EnumerateArray()
                .ToDictionary(m => m.GetProperty("id").GetString()!, m => m.GetProperty("status").GetString());
            Assert.Equal("invalid", statuses[newest]);
            Assert.Equal("ready", statuses[defaultId]);
        }
        finally
        {
            ModelServiceFactory.DeleteStorage(storage);
        }
    }
}
