using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace ModelService.Api.Tests.Training;

/// <summary>Queue capacity and cancellation, with a one-slot queue and a long job holding the worker.</summary>
public sealed class QueueTests : IDisposable
{
    private readonly ModelServiceFactory _factory = new(new Dictionary<string, string?>
    {
        ["Training:QueueCapacity"] = "1",
        ["Training:RetryAfterSeconds"] = "7",
    });

    public void Dispose() => _factory.Dispose();

    private async Task<(HttpClient Client, string DatasetId, string Running)> StartLongJobAsync()
    {
        var client = _factory.CreateClient();
        var datasetId = (await client.UploadCsvAsync(TestData.HousesCsv(2000, seed: 3))).GetProperty("id").GetString()!;
        var job = await client.SubmitAsync(new { datasetId, target = "price", epochs = 1000, batchSize = 1 });
        var id = job.GetProperty("id").GetString()!;
        await client.WaitForJobAsync(id, j => j.GetProperty("status").GetString() == "running");
        return (client, datasetId, id);
    }

    [Fact]
    public async Task A_full_queue_answers_503_with_retry_after_and_keeps_no_job()
    {
        var (client, datasetId, running) = await StartLongJobAsync();
        var queued = await client.SubmitAsync(new { datasetId, target = "price", epochs = 1 });

        var response = await client.PostAsJsonAsync("/api/v1/training-jobs", new { datasetId, target = "price", epochs = 1 });

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("7", response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, (await client.GetJsonAsync("/api/v1/training-jobs")).GetArrayLength());
        Assert.Equal(queued.GetProperty("id").GetString(),
            (await client.GetJsonAsync("/api/v1/training-jobs?status=queued"))[0].GetProperty("id").GetString());
        await client.PostAsync(new Uri($"/api/v1/training-jobs/{running}/cancel", UriKind.Relative), null);
    }

    [Fact]
    public async Task A_queued_job_is_cancelled_at_once_and_never_runs()
    {
        var (client, datasetId, running) = await StartLongJobAsync();
        var queued = (await client.SubmitAsync(new { datasetId, target = "price", epochs = 1 })).GetProperty("id").GetString()!;

        var response = await client.PostAsync(new Uri($"/api/v1/training-jobs/{queued}/cancel", UriKind.Relative), null);

        var job = await ServiceApi.ExpectAsync(response, HttpStatusCode.Accepted);
        Assert.Equal("cancelled", job.GetProperty("status").GetString());
        await client.PostAsync(new Uri($"/api/v1/training-jobs/{running}/cancel", UriKind.Relative), null);
        await client.WaitForJobAsync(running);
        var after = await client.GetJsonAsync($"/api/v1/training-jobs/{queued}");
        Assert.Equal("cancelled", after.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, after.GetProperty("startedAt").ValueKind);
    }

    [Fact]
    public async Task A_running_job_stops_at_the_next_batch_when_cancelled()
    {
        var (client, _, running) = await StartLongJobAsync();

        var response = await client.PostAsync(new Uri($"/api/v1/training-jobs/{running}/cancel", UriKind.Relative), null);

        await ServiceApi.ExpectAsync(response, HttpStatusCode.Accepted);
        var job = await client.WaitForJobAsync(running);
        Assert.Equal("cancelled", job.GetProperty("status").GetString());
        Assert.True(job.GetProperty("progress").GetProperty("epoch").GetInt32() < 1000);
        Assert.Equal(JsonValueKind.Null, job.GetProperty("modelId").ValueKind);
        await ServiceApi.ExpectProblemAsync(await client.PostAsync(new Uri($"/api/v1/training-jobs/{running}/cancel", UriKind.Relative), null),
            HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_dataset_used_by_a_pending_job_cannot_be_deleted()
    {
        var (client, datasetId, running) = await StartLongJobAsync();

        var response = await client.DeleteAsync(new Uri($"/api/v1/datasets/{datasetId}", UriKind.Relative));

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.Conflict);
        await client.GetJsonAsync($"/api/v1/datasets/{datasetId}");
        await client.PostAsync(new Uri($"/api/v1/training-jobs/{running}/cancel", UriKind.Relative), null);
    }
}
