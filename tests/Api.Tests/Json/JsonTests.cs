using System.Text.Json;

namespace ModelService.Api.Tests.Json;

public sealed class JsonTests(ModelServiceFactory factory) : IClassFixture<ModelServiceFactory>
{
    private readonly ModelServiceFactory _factory = factory;

    [Fact]
    public async Task Json_uses_camel_case_names()
    {
        var client = _factory.CreateClient();

        var dataset = await client.UploadCsvAsync("a,y\n1,2\n");

        Assert.Equal(["id", "name", "rowCount", "sha256", "createdAt", "columns", "kind"], dataset.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.String, dataset.GetProperty("createdAt").ValueKind);
    }
}
