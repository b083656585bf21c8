using System.Net;

namespace ModelService.Api.Tests.OpenApi;

public sealed class OpenApiTests(ModelServiceFactory factory) : IClassFixture<ModelServiceFactory>
{
    private readonly ModelServiceFactory _factory = factory;

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
}
