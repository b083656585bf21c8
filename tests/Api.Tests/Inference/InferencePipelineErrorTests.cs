using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace ModelService.Api.Tests.Inference;

/// <summary>Errors raised before a v2 handler runs (authentication, rate limits, unknown routes) still use the protocol's
/// {"error"} body, while v1 keeps problem details.</summary>
public sealed class InferencePipelineErrorTests
{
    private static readonly object s_infer = new
    {
        inputs = new[] { new { name = "input0", shape = new[] { 1, 2 }, datatype = "FP32", data = new[] { 0.5, 0.5 } } },
    };

    [Fact]
    public async Task A_missing_key_on_v2_is_a_401_with_an_error_body()
    {
        using var factory = new ModelServiceFactory(new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0"] = ModelServiceFactory.ApiKey,
            ["Auth:RequireKeyForReads"] = "true",
        });
        var client = factory.CreateClient();

        var response = await client.PostAsJsonAsync("/v2/models/modelservice/infer", s_infer);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("X-Api-Key", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        var v1 = await client.GetAsync(new Uri("/api/v1/models", UriKind.Relative));
        Assert.Equal("application/problem+json", v1.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_unknown_v2_route_is_a_404_with_an_error_body()
    {
        using var factory = new ModelServiceFactory();

        var response = await factory.CreateClient().GetAsync(new Uri("/v2/no-such-thing", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Past_the_rate_limit_v2_answers_429_with_an_error_body()
    {
        using var factory = ModelServiceFactory.WithRateLimit("Predictions", permitLimit: 1);
        var client = factory.CreateClient();

        await client.PostAsJsonAsync("/v2/models/modelservice/infer", s_infer);
        var response = await client.PostAsJsonAsync("/v2/models/modelservice/infer", s_infer);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetString()));
    }
}
