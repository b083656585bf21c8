using System.Net;
using System.Text.Json;

namespace ModelService.Api.Tests.Training;

/// <summary>GET /api/v1/training-jobs/{id}/events: Server-Sent Events, one per epoch, then the outcome.</summary>
public sealed class TrainingEventsTests(ModelServiceFactory factory) : IClassFixture<ModelServiceFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A_follower_sees_every_epoch_live_and_then_the_outcome()
    {
        var dataset = await _client.UploadCsvAsync(TestData.HousesCsv(1000, seed: 3));
        var datasetId = dataset.GetProperty("id").GetString();
        // The first job keeps the worker busy, so the followed job is still queued when the stream opens.
        await _client.SubmitAsync(new { datasetId, target = "price", epochs = 30, activate = false });
        var job = await _client.SubmitAsync(new { datasetId, target = "price", epochs = 4, activate = false });

        var events = await ReadStreamAsync(job.GetProperty("id").GetString()!);

        var epochs = events.Where(e => e.Type == "epoch").Select(e => e.Data).ToList();
        Assert.Equal([1, 2, 3, 4], epochs.Select(e => e.GetProperty("epoch").GetInt32()));
        Assert.All(epochs, e =>
        {
            Assert.Equal(4, e.GetProperty("epochs").GetInt32());
            Assert.True(e.GetProperty("trainLoss").GetDouble() > 0);
            Assert.True(e.GetProperty("validationLoss").GetDouble() > 0);
            Assert.True(e.GetProperty("elapsedSeconds").GetDouble() > 0);
        });
        var outcome = events[^1];
        Assert.Equal("outcome", outcome.Type);
        Assert.Equal("succeeded", outcome.Data.GetProperty("status").GetString());
        Assert.StartsWith("mdl_", outcome.Data.GetProperty("modelId").GetString(), StringComparison.Ordinal);
        Assert.Equal(4, outcome.Data.GetProperty("epochs").GetInt32());
    }

    [Fact]
    public async Task A_follower_of_a_finished_job_gets_its_history_and_outcome()
    {
        var dataset = await _client.UploadCsvAsync(TestData.HousesCsv(200, seed: 4));
        var job = await _client.TrainAsync(new { datasetId = dataset.GetProperty("id").GetString(), target = "price", epochs = 3, activate = false });

        var events = await ReadStreamAsync(job.GetProperty("id").GetString()!);

        Assert.Equal(["epoch", "epoch", "epoch", "outcome"], events.Select(e => e.Type));
        Assert.Equal(job.GetProperty("history")[2].GetProperty("trainLoss").GetDouble(), events[2].Data.GetProperty("trainLoss").GetDouble());
        Assert.Equal(job.GetProperty("modelId").GetString(), events[3].Data.GetProperty("modelId").GetString());
    }

    [Fact]
    public async Task An_unknown_job_is_404()
    {
        var response = await _client.GetAsync(new Uri("/api/v1/training-jobs/job_AAAAAAAAAAAA/events", UriKind.Relative));

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.NotFound);
    }

    private Task<List<(string Type, JsonElement Data)>> ReadStreamAsync(string jobId) =>
        _client.ReadEventsAsync($"/api/v1/training-jobs/{jobId}/events");
}
