using System.Net;

namespace ModelService.Api.Tests.Training;

/// <summary>A fresh service trains a throwaway network before it reports ready, so the first job does not pay the
/// training path's one-time costs.</summary>
public sealed class TrainingWarmupTests
{
    [Fact]
    public async Task Ready_reports_the_warm_up_and_turns_200_once_training_has_warmed_up()
    {
        using var factory = new ModelServiceFactory(new Dictionary<string, string?>(CapturedLog.Verbose) { ["TrainingWarmup:Enabled"] = "true" });
        var log = new CapturedLog();
        var client = CapturedLog.Client(factory, log);

        var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        for (var wait = 0; wait < 300 && response.StatusCode != HttpStatusCode.OK; wait++)
        {
            var check = (await ServiceApi.ExpectAsync(response, HttpStatusCode.ServiceUnavailable)).GetProperty("checks").GetProperty("training-warmup");
            Assert.Equal("Unhealthy", check.GetProperty("status").GetString());
            await Task.Delay(50);
            response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        }

        var body = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("training-warmup").GetProperty("status").GetString());
        Assert.Contains(log.Lines, l => l.StartsWith("Information Training warmed up in", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_service_without_the_warm_up_is_ready_at_once()
    {
        using var factory = new ModelServiceFactory();

        var response = await factory.CreateClient().GetAsync(new Uri("/health/ready", UriKind.Relative));

        var body = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("training-warmup").GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_out_of_range_warm_up_setting_stops_the_service_from_starting()
    {
        using var factory = new ModelServiceFactory(new Dictionary<string, string?> { ["TrainingWarmup:Epochs"] = "0" });

        await Assert.ThrowsAnyAsync<Exception>(() => factory.CreateClient().GetAsync(new Uri("/health/live", UriKind.Relative)));
    }
}
