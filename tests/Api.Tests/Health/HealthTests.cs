using System.Net;

namespace ModelService.Api.Tests.Health;

public sealed class HealthTests : IClassFixture<ModelServiceFactory>
{
    private readonly ModelServiceFactory _factory;

    public HealthTests(ModelServiceFactory factory) => _factory = factory;

    [Fact]
    public async Task Live_answers_200()
    {
        var response = await _factory.CreateClient().GetAsync(new Uri("/health/live", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Ready_answers_200_once_the_default_model_is_loaded()
    {
        var response = await _factory.CreateClient().GetAsync(new Uri("/health/ready", UriKind.Relative));

        var body = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("model").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_answers_503_without_a_model()
    {
        using var factory = new ModelServiceFactory(new Dictionary<string, string?> { ["Storage:DefaultModelPath"] = "/nonexistent/model" });
        var client = factory.CreateClient();

        var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
        await ServiceApi.ExpectProblemAsync(await client.GetAsync(new Uri("/api/v1/models/active", UriKind.Relative)), HttpStatusCode.ServiceUnavailable);
        await ServiceApi.ExpectProblemAsync(await client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative),
            ServiceApi.JsonBody("""{"records": [{"square_footage": 0.5, "rooms": 0.5}]}""")), HttpStatusCode.ServiceUnavailable);
    }
}
