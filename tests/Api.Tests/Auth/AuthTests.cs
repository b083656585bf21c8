using System.Net;

namespace ModelService.Api.Tests.Auth;

public sealed class AuthTests
{
    private const string Csv = "a,y\n1,2\n3,4\n";

    private static ModelServiceFactory WithKey(bool requireKeyForReads = false, IDictionary<string, string?>? more = null) =>
        new(new Dictionary<string, string?>(more ?? new Dictionary<string, string?>())
        {
            ["Auth:ApiKeys:0"] = "another-key-0123456789",
            ["Auth:ApiKeys:1"] = ModelServiceFactory.ApiKey,
            ["Auth:RequireKeyForReads"] = requireKeyForReads ? "true" : "false",
        });

    [Fact]
    public async Task Writes_are_open_when_no_key_is_configured()
    {
        using var factory = new ModelServiceFactory();

        await factory.CreateClient().UploadCsvAsync(Csv);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("wrong-key-0123456789abcdef")]
    [InlineData("test-key-0123456789abcde")]
    public async Task Writes_without_a_valid_key_are_401_problems_and_change_nothing(string? key)
    {
        using var factory = WithKey();
        var client = key is null ? factory.CreateClient() : factory.CreateClient(key);
        var owner = factory.CreateClient(ModelServiceFactory.ApiKey);
        var dataset = await owner.UploadCsvAsync(Csv);
        var id = dataset.GetProperty("id").GetString();

        await ServiceApi.ExpectProblemAsync(await client.PostAsync(new Uri("/api/v1/datasets", UriKind.Relative), ServiceApi.Csv(Csv)), HttpStatusCode.Unauthorized);
        await ServiceApi.ExpectProblemAsync(await client.DeleteAsync(new Uri($"/api/v1/datasets/{id}", UriKind.Relative)), HttpStatusCode.Unauthorized);
        await ServiceApi.ExpectProblemAsync(await client.PostAsync(new Uri("/api/v1/training-jobs", UriKind.Relative),
            ServiceApi.JsonBody($$"""{"datasetId": "{{id}}", "target": "y"}""")), HttpStatusCode.Unauthorized);
        await ServiceApi.ExpectProblemAsync(await client.PostAsync(new Uri("/api/v1/training-jobs/job_AAAAAAAAAAAA/cancel", UriKind.Relative), null),
            HttpStatusCode.Unauthorized);
        await ServiceApi.ExpectProblemAsync(await client.PostAsync(new Uri("/api/v1/models/mdl_AAAAAAAAAAAA/activate", UriKind.Relative), null),
            HttpStatusCode.Unauthorized);
        await ServiceApi.ExpectProblemAsync(await client.DeleteAsync(new Uri("/api/v1/models/mdl_AAAAAAAAAAAA", UriKind.Relative)), HttpStatusCode.Unauthorized);

        Assert.Single((await owner.GetJsonAsync("/api/v1/datasets")).EnumerateArray());
        Assert.Empty((await owner.GetJsonAsync("/api/v1/training-jobs")).EnumerateArray());
    }

    [Fact]
    public async Task Any_configured_key_may_write()
    {
        using var factory = WithKey();

        await factory.CreateClient(ModelServiceFactory.ApiKey).UploadCsvAsync(Csv);
        await factory.CreateClient("another-key-0123456789").UploadCsvAsync(Csv);
    }

    [Fact]
    public async Task Reads_stay_open_by_default()
    {
        using var factory = WithKey();
        var client = factory.CreateClient();

        await client.GetJsonAsync("/api/v1/datasets");
        await client.GetJsonAsync("/api/v1/training-jobs");
        await client.GetJsonAsync("/api/v1/models");
        var unauthorised = await client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), ServiceApi.JsonBody("{}"));
        Assert.NotEqual(HttpStatusCode.Unauthorized, unauthorised.StatusCode);
    }

    [Fact]
    public async Task Reads_and_predictions_need_a_key_when_configured_so()
    {
        using var factory = WithKey(requireKeyForReads: true);
        var anonymous = factory.CreateClient();
        var owner = factory.CreateClient(ModelServiceFactory.ApiKey);

        await ServiceApi.ExpectProblemAsync(await anonymous.GetAsync(new Uri("/api/v1/datasets", UriKind.Relative)), HttpStatusCode.Unauthorized);
        await ServiceApi.ExpectProblemAsync(await anonymous.GetAsync(new Uri("/api/v1/models", UriKind.Relative)), HttpStatusCode.Unauthorized);
        await ServiceApi.ExpectProblemAsync(await anonymous.GetAsync(new Uri("/api/v1/training-jobs", UriKind.Relative)), HttpStatusCode.Unauthorized);
        await ServiceApi.ExpectProblemAsync(await anonymous.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), ServiceApi.JsonBody("{}")),
            HttpStatusCode.Unauthorized);
        await owner.GetJsonAsync("/api/v1/datasets");
        var health = await anonymous.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Without_a_key_the_log_warns_at_start_up_that_writes_are_open()
    {
        using var open = new ModelServiceFactory();
        using var keyed = WithKey();
        var openLog = new CapturedLog();
        var keyedLog = new CapturedLog();

        await CapturedLog.Client(open, openLog).GetJsonAsync("/api/v1/datasets");
        await CapturedLog.Client(keyed, keyedLog).GetJsonAsync("/api/v1/datasets");

        Assert.Contains(openLog.Lines, l => l.StartsWith("Warning No API key is configured", StringComparison.Ordinal));
        Assert.DoesNotContain(keyedLog.Lines, l => l.Contains("No API key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Keys_right_or_wrong_never_reach_the_log()
    {
        using var factory = WithKey(more: CapturedLog.Verbose);
        var log = new CapturedLog();
        const string wrong = "wrong-key-fedcba9876543210";

        await CapturedLog.Client(factory, log, ModelServiceFactory.ApiKey).UploadCsvAsync(Csv);
        var refused = await CapturedLog.Client(factory, log, wrong).PostAsync(new Uri("/api/v1/datasets", UriKind.Relative), ServiceApi.Csv(Csv));

        await ServiceApi.ExpectProblemAsync(refused, HttpStatusCode.Unauthorized);
        // The request log line is written as the response completes, which can be just after the client has it.
        static bool IsRefusalLine(string l) => l.Contains("/api/v1/datasets", StringComparison.Ordinal) && l.Contains("401", StringComparison.Ordinal);
        for (var wait = 0; wait < 100 && !log.Lines.Any(IsRefusalLine); wait++)
        {
            await Task.Delay(20);
        }
        Assert.Contains(log.Lines, IsRefusalLine);
        Assert.DoesNotContain(log.Lines, l => l.Contains(ModelServiceFactory.ApiKey, StringComparison.Ordinal));
        Assert.DoesNotContain(log.Lines, l => l.Contains(wrong, StringComparison.Ordinal));
    }

    [Fact]
    public void Keys_shorter_than_16_characters_stop_the_service_at_start()
    {
        using var factory = new ModelServiceFactory(new Dictionary<string, string?> { ["Auth:ApiKeys:0"] = "short" });

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Auth:ApiKeys", error.ToString(), StringComparison.Ordinal);
    }
}
