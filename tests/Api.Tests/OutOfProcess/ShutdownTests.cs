using System.Net;

namespace ModelService.Api.Tests.OutOfProcess;

/// <summary>A container stop (SIGTERM) while a client follows a job: the process must not wait for the stream, which
/// would otherwise hold the shutdown for the host's whole 30 s timeout.</summary>
public sealed class ShutdownTests : IDisposable
{
    private readonly string _storage = ModelServiceFactory.NewStorageFolder();
    private ServiceProcess? _service;

    public void Dispose()
    {
        _service?.Dispose();
        ModelServiceFactory.DeleteStorage(_storage);
    }

    [Fact]
    public async Task Sigterm_ends_open_event_streams_cleanly_and_the_process_exits_without_waiting_for_them()
    {
        // A process that runs no jobs leaves the job queued, so its stream stays open until something ends it.
        _service = await ServiceProcess.StartAsync(_storage, new Dictionary<string, string> { ["Training__RunJobs"] = "false" });
        var client = _service.Client;
        var dataset = (await client.UploadCsvAsync(TestData.HousesCsv(200, seed: 3))).GetProperty("id").GetString();
        var job = (await client.SubmitAsync(new { datasetId = dataset, target = "price", epochs = 2 })).GetProperty("id").GetString();
        // The whole response: for a queued job nothing, not even the headers, is written until an event or the end.
        var follow = client.GetAsync($"/api/v1/training-jobs/{job}/events", HttpCompletionOption.ResponseContentRead);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.False(follow.IsCompleted, "The stream of a queued job ended before the process was stopped.");

        var exited = await _service.TerminateAsync(TimeSpan.FromSeconds(10));

        Assert.True(exited, $"The service did not exit within 10 s of SIGTERM with an event stream open.\n{_service.Output}");
        Assert.Equal(0, _service.ExitCode);
        // The stream ended as a complete response, without an outcome: the job did not end.
        using var response = await follow.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("event: outcome", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
