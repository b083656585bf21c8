using System.Net;
using System.Text.Json;

namespace ModelService.Api.Tests;

public sealed class OperationsTests : IClassFixture<ModelServiceFactory>
{
    private readonly ModelServiceFactory _factory;

    public OperationsTests(ModelServiceFactory factory) => _factory = factory;

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

        var body = await Api.ExpectAsync(response, HttpStatusCode.OK);
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
        await Api.ExpectProblemAsync(await client.GetAsync(new Uri("/api/v1/models/active", UriKind.Relative)), HttpStatusCode.ServiceUnavailable);
        await Api.ExpectProblemAsync(await client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative),
            Api.JsonBody("""{"records": [{"square_footage": 0.5, "rooms": 0.5}]}""")), HttpStatusCode.ServiceUnavailable);
    }

    [Theory]
    [InlineData("GET", "/nothing-here")]
    [InlineData("GET", "/api/v1/unknown")]
    [InlineData("PUT", "/api/v1/datasets")]
    [InlineData("PATCH", "/api/v1/models")]
    [InlineData("GET", "/api/v1/predictions")]
    public async Task Unknown_routes_and_methods_are_problems(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));

        var response = await _factory.CreateClient().SendAsync(request);

        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, response.StatusCode.ToString());
        await Api.ExpectProblemAsync(response, response.StatusCode);
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem()
    {
        var response = await _factory.CreateClient().PostAsync(new Uri("/api/v1/training-jobs", UriKind.Relative),
            Api.JsonBody("""{"datasetId": "ds_AAAAAAAAAAAA", "epochs": "many"}"""));

        await Api.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "epochs");
    }

    [Fact]
    public async Task Swagger_ui_and_document_describe_every_endpoint_with_examples()
    {
        var client = _factory.CreateClient();

        var ui = await client.GetAsync(new Uri("/swagger", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Contains("swagger-ui", await ui.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var document = await client.GetJsonAsync("/swagger/v1/swagger.json");

        var paths = document.GetProperty("paths");
        string[] expected =
        [
            "/api/v1/datasets", "/api/v1/datasets/{id}", "/api/v1/training-jobs", "/api/v1/training-jobs/{id}",
            "/api/v1/training-jobs/{id}/cancel", "/api/v1/models", "/api/v1/models/active", "/api/v1/models/{id}",
            "/api/v1/models/{id}/activate", "/api/v1/predictions",
        ];
        Assert.All(expected, path => Assert.True(paths.TryGetProperty(path, out _), path));
        foreach (var path in paths.EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var name = $"{operation.Name} {path.Name}";
                Assert.False(string.IsNullOrEmpty(operation.Value.GetProperty("summary").GetString()), name);
                Assert.True(operation.Value.TryGetProperty("description", out var description) && description.GetString()!.Length > 20, name);
                if (operation.Value.TryGetProperty("requestBody", out var body))
                {
                    Assert.All(body.GetProperty("content").EnumerateObject(),
                        media => Assert.True(media.Value.TryGetProperty("example", out _) || media.Value.TryGetProperty("examples", out _),
                            $"{name} {media.Name} has no example"));
                }
            }
        }
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        Assert.Equal("X-Api-Key", scheme.GetProperty("name").GetString());
        Assert.True(paths.GetProperty("/api/v1/datasets").GetProperty("post").TryGetProperty("security", out _));
        Assert.False(paths.GetProperty("/api/v1/predictions").GetProperty("post").TryGetProperty("security", out _));
    }

    [Fact]
    public async Task Json_uses_camel_case_names()
    {
        var client = _factory.CreateClient();

        var dataset = await client.UploadCsvAsync("a,y\n1,2\n");

        Assert.Equal(["id", "name", "rowCount", "sha256", "createdAt", "columns"], dataset.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.String, dataset.GetProperty("createdAt").ValueKind);
    }
}
