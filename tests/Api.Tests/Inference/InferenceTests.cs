using System.Net;
using System.Text.Json;

namespace ModelService.Api.Tests.Inference;

/// <summary>The Open Inference Protocol (KServe v2) REST endpoints, driven with requests shaped like the
/// specification's own examples.</summary>
public sealed class InferenceTests(ModelServiceFactory factory) : IClassFixture<ModelServiceFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Server_metadata_names_the_server_and_its_extensions()
    {
        var metadata = await _client.GetJsonAsync("/v2");

        Assert.Equal("modelservice", metadata.GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(metadata.GetProperty("version").GetString()));
        Assert.Equal(JsonValueKind.Array, metadata.GetProperty("extensions").ValueKind);
    }

    [Theory]
    [InlineData("/v2/health/live")]
    [InlineData("/v2/health/ready")]
    [InlineData("/v2/models/modelservice/ready")]
    public async Task HealthAndReadinessAnswer200(string path)
    {
        var response = await _client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Model_metadata_describes_tensors_with_a_batch_dimension()
    {
        var active = await _client.GetJsonAsync("/api/v1/models/active");
        var activeId = active.GetProperty("id").GetString()!;

        var metadata = await _client.GetJsonAsync("/v2/models/modelservice");

        Assert.Equal("modelservice", metadata.GetProperty("name").GetString());
        Assert.Contains(activeId, metadata.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.False(string.IsNullOrEmpty(metadata.GetProperty("platform").GetString()));
        var input = Assert.Single(metadata.GetProperty("inputs").EnumerateArray());
        Assert.Equal("input0", input.GetProperty("name").GetString());
        Assert.Equal("FP32", input.GetProperty("datatype").GetString());
        Assert.Equal([-1L, 2L], input.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()));
        var output = Assert.Single(metadata.GetProperty("outputs").EnumerateArray());
        Assert.Equal("output0", output.GetProperty("name").GetString());
        Assert.Equal("FP64", output.GetProperty("datatype").GetString());
        Assert.Equal([-1L, 1L], output.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()));

        var versioned = await _client.GetJsonAsync($"/v2/models/modelservice/versions/{activeId}");
        Assert.Equal(metadata.GetProperty("inputs").GetRawText(), versioned.GetProperty("inputs").GetRawText());
        var ready = await _client.GetAsync(new Uri($"/v2/models/modelservice/versions/{activeId}/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Theory]
    [InlineData("FP32", "[0.5, 0.5, 0.9, 0.2]")]
    [InlineData("FP64", "[[0.5, 0.5], [0.9, 0.2]]")]
    public async Task InferAnswersAnOutputTensorOfShapeNBy1(string datatype, string data)
    {
        var expected = await _client.PredictAsync(new { instances = new[] { new[] { 0.5, 0.5 }, new[] { 0.9, 0.2 } } });
        var activeId = (await _client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString();

        var response = await _client.PostAsync(new Uri("/v2/models/modelservice/infer", UriKind.Relative), ServiceApi.JsonBody($$"""
            { "id" : "42",
              "inputs" : [ { "name" : "input0", "shape" : [ 2, 2 ], "datatype" : "{{datatype}}", "data" : {{data}} } ],
              "outputs" : [ { "name" : "output0" } ] }
            """));

        var answer = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Equal("modelservice", answer.GetProperty("model_name").GetString());
        Assert.Equal(activeId, answer.GetProperty("model_version").GetString());
        Assert.Equal("42", answer.GetProperty("id").GetString());
        var output = Assert.Single(answer.GetProperty("outputs").EnumerateArray());
        Assert.Equal("output0", output.GetProperty("name").GetString());
        Assert.Equal("FP64", output.GetProperty("datatype").GetString());
        Assert.Equal([2L, 1L], output.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()));
        var values = output.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(2, values.Length);
        Assert.InRange(values[0], 280_000, 320_000);
        // FP32 input rounds the features to single precision, so agreement is to a fraction of a unit, not exact.
        Assert.Equal(expected[0], values[0], 0.5);
        Assert.Equal(expected[1], values[1], 0.5);
    }

    [Fact]
    public async Task Infer_on_a_version_uses_that_model()
    {
        var activeId = (await _client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString();

        var response = await _client.PostAsync(new Uri($"/v2/models/modelservice/versions/{activeId}/infer", UriKind.Relative),
            ServiceApi.JsonBody("""{"inputs":[{"name":"input0","shape":[1,2],"datatype":"FP64","data":[0.5,0.5]}]}"""));

        var answer = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Equal(activeId, answer.GetProperty("model_version").GetString());
        Assert.False(answer.TryGetProperty("id", out _));
    }

    [Theory]
    [InlineData("/v2/models/other/infer", HttpStatusCode.NotFound, """{"inputs":[{"name":"input0","shape":[1,2],"datatype":"FP32","data":[1,2]}]}""", "other")]
    [InlineData("/v2/models/modelservice/versions/mdl_AAAAAAAAAAAA/infer", HttpStatusCode.NotFound, """{"inputs":[{"name":"input0","shape":[1,2],"datatype":"FP32","data":[1,2]}]}""", "mdl_AAAAAAAAAAAA")]
    [InlineData("/v2/models/modelservice/infer", HttpStatusCode.BadRequest, """{"inputs":[{"name":"input0","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}""", "[N, 2]")]
    [InlineData("/v2/models/modelservice/infer", HttpStatusCode.BadRequest, """{"inputs":[{"name":"input0","shape":[2,2],"datatype":"FP32","data":[1,2,3]}]}""", "needs 4 values")]
    [InlineData("/v2/models/modelservice/infer", HttpStatusCode.BadRequest, """{"inputs":[{"name":"input0","shape":[1,2],"datatype":"UINT32","data":[1,2]}]}""", "UINT32")]
    [InlineData("/v2/models/modelservice/infer", HttpStatusCode.BadRequest, """{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}]}""", "'x'")]
    [InlineData("/v2/models/modelservice/infer", HttpStatusCode.BadRequest, """{"inputs":[{"name":"input0","shape":[1,2],"datatype":"FP32","data":[1,"2"]}]}""", "numbers only")]
    [InlineData("/v2/models/modelservice/infer", HttpStatusCode.BadRequest, """{"inputs":[{"name":"input0","shape":[1,2],"datatype":"FP32","data":[1,2]}],"outputs":[{"name":"y"}]}""", "output0")]
    [InlineData("/v2/models/modelservice/infer", HttpStatusCode.BadRequest, """{"inputs": [""", "not valid JSON")]
    public async Task ErrorsUseTheProtocolErrorBody(string path, HttpStatusCode status, string body, string mentioned)
    {
        var response = await _client.PostAsync(new Uri(path, UriKind.Relative), ServiceApi.JsonBody(body));

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, response.StatusCode);
        using var json = JsonDocument.Parse(text);
        var property = Assert.Single(json.RootElement.EnumerateObject());
        Assert.Equal("error", property.Name);
        Assert.Contains(mentioned, property.Value.GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_model_metadata_is_404_with_an_error()
    {
        var response = await _client.GetAsync(new Uri("/v2/models/nope", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("nope", json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
