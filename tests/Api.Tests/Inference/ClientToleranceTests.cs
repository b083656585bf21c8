using System.Net;
using System.Text.Json;

namespace ModelService.Api.Tests.Inference;

/// <summary>What KServe's and Triton's clients send and expect beyond the core protocol: model_name in typed bodies,
/// health bodies, and errors whose Content-Type is exactly application/json with a message saying what was wrong.</summary>
public sealed class ClientToleranceTests(ModelServiceFactory factory) : IClassFixture<ModelServiceFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A_typed_kserve_body_with_model_name_and_version_is_scored()
    {
        var activeId = (await _client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString();

        // KServe's InferRequest.to_rest() shape: id, model_name, model_version, inputs with datatype and shape, parameters.
        var response = await _client.PostAsync(Infer, ServiceApi.JsonBody($$$"""
            {"id":"3f2c","model_name":"modelservice","model_version":"{{{activeId}}}",
             "inputs":[{"name":"input0","shape":[1,2],"datatype":"FP32","data":[0.5,0.5],"parameters":{}}],"parameters":{}}
            """));

        var answer = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Equal("3f2c", answer.GetProperty("id").GetString());
        Assert.InRange(answer.GetProperty("outputs")[0].GetProperty("data")[0].GetDouble(), 280_000, 320_000);
    }

    [Theory]
    [InlineData("\"model_name\":\"other\"", "'other'", "'modelservice'")]
    [InlineData("\"model_version\":\"mdl_AAAAAAAAAAAA\"", "'mdl_AAAAAAAAAAAA'", "version")]
    public async Task A_body_naming_another_model_or_version_than_the_url_is_a_400_naming_both(string field, string body, string url)
    {
        var response = await _client.PostAsync(Infer, ServiceApi.JsonBody($$"""
            { {{field}}, "inputs":[{"name":"input0","shape":[1,2],"datatype":"FP32","data":[0.5,0.5]}]}
            """));

        await BinaryTensorDataTests.ExpectErrorAsync(response, HttpStatusCode.BadRequest, body);
        var error = (await response.Content.ReadAsStringAsync()).ToUpperInvariant();
        Assert.Contains(url.ToUpperInvariant(), error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v2/health/live", "live")]
    [InlineData("/v2/health/ready", "ready")]
    [InlineData("/v2/models/modelservice/ready", "ready")]
    public async Task Health_answers_carry_a_boolean_body_as_kserve_reads_it(string path, string field)
    {
        var response = await _client.GetAsync(new Uri(path, UriKind.Relative));

        var body = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.ToString());
        Assert.True(body.GetProperty(field).GetBoolean());
    }

    [Theory]
    [InlineData("GET", "/v2/no-such-route", null, HttpStatusCode.NotFound, "No Open Inference Protocol route at '/v2/no-such-route'")]
    [InlineData("GET", "/v2/models/modelservice/infer", null, HttpStatusCode.MethodNotAllowed, "does not accept GET; use POST")]
    [InlineData("DELETE", "/v2/health/live", null, HttpStatusCode.MethodNotAllowed, "does not accept DELETE; use GET")]
    [InlineData("POST", "/v2/models/modelservice/infer", "text/plain", HttpStatusCode.UnsupportedMediaType, "'text/plain' is not accepted")]
    public async Task Routing_errors_say_what_was_wrong_as_plain_application_json(string method, string path, string? contentType,
        HttpStatusCode status, string mentioned)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        if (contentType is not null)
        {
            request.Content = ServiceApi.Bytes("{}"u8.ToArray(), contentType);
        }

        var response = await _client.SendAsync(request);

        await BinaryTensorDataTests.ExpectErrorAsync(response, status, mentioned);
    }

    [Fact]
    public async Task Handler_errors_are_plain_application_json_too()
    {
        var response = await _client.GetAsync(new Uri("/v2/models/nope", UriKind.Relative));

        await BinaryTensorDataTests.ExpectErrorAsync(response, HttpStatusCode.NotFound, "'nope'");
    }

    [Fact]
    public async Task Success_answers_are_plain_application_json()
    {
        var response = await _client.GetAsync(new Uri("/v2/models/modelservice", UriKind.Relative));

        Assert.Equal("application/json", response.Content.Headers.ContentType?.ToString());
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("modelservice", json.RootElement.GetProperty("name").GetString());
    }

    private static Uri Infer => new("/v2/models/modelservice/infer", UriKind.Relative);
}
