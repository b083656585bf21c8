using System.Net;

namespace ModelService.Api.Tests.Inference;

/// <summary>Triton's model configuration, statistics and repository index, as its client's get_model_config,
/// get_inference_statistics and get_model_repository_index call them.</summary>
public sealed class RepositoryExtensionTests : IDisposable
{
    private readonly ModelServiceFactory _factory = new();

    [Fact]
    public async Task Model_config_describes_the_tensors_with_an_implicit_batch_dimension()
    {
        var client = _factory.CreateClient();
        var activeId = (await client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString();

        var config = await client.GetJsonAsync("/v2/models/modelservice/config");

        Assert.Equal("modelservice", config.GetProperty("name").GetString());
        Assert.Equal(200_000, config.GetProperty("max_batch_size").GetInt64());
        var input = Assert.Single(config.GetProperty("input").EnumerateArray());
        Assert.Equal("input0", input.GetProperty("name").GetString());
        Assert.Equal("TYPE_FP32", input.GetProperty("data_type").GetString());
        Assert.Equal([2L], input.GetProperty("dims").EnumerateArray().Select(d => d.GetInt64()));
        var output = Assert.Single(config.GetProperty("output").EnumerateArray());
        Assert.Equal("TYPE_FP64", output.GetProperty("data_type").GetString());
        Assert.Contains(activeId, config.GetProperty("version_policy").GetProperty("specific").GetProperty("versions").EnumerateArray()
            .Select(v => v.GetString()));
        var versioned = await client.GetJsonAsync($"/v2/models/modelservice/versions/{activeId}/config");
        Assert.Equal([activeId], versioned.GetProperty("version_policy").GetProperty("specific").GetProperty("versions").EnumerateArray()
            .Select(v => v.GetString()));
        var unknown = await client.GetAsync(new Uri("/v2/models/other/config", UriKind.Relative));
        await BinaryTensorDataTests.ExpectErrorAsync(unknown, HttpStatusCode.NotFound, "'other'");
    }

    [Fact]
    public async Task Statistics_count_rows_requests_and_failures_of_each_version()
    {
        var client = _factory.CreateClient();
        var activeId = (await client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString();
        const string ThreeRows = """{"inputs":[{"name":"input0","shape":[3,2],"datatype":"FP32","data":[0.5,0.5,0.9,0.2,0.1,0.7]}]}""";

        await ServiceApi.ExpectAsync(await client.PostAsync(Infer, ServiceApi.JsonBody(ThreeRows)), HttpStatusCode.OK);
        await ServiceApi.ExpectAsync(await client.PostAsync(Infer, OipWire.BinaryRequest([[0.5, 0.5], [0.9, 0.2]], "FP32", null)), HttpStatusCode.OK);
        var bad = await client.PostAsync(Infer, ServiceApi.JsonBody("""{"inputs":[{"name":"input0","shape":[1,2],"datatype":"FP32","data":[1]}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        foreach (var path in new[] { "/v2/models/stats", "/v2/models/modelservice/stats", $"/v2/models/modelservice/versions/{activeId}/stats" })
        {
            var stats = await client.GetJsonAsync(path);
            var version = Assert.Single(stats.GetProperty("model_stats").EnumerateArray(), s => s.GetProperty("version").GetString() == activeId);
            Assert.Equal("modelservice", version.GetProperty("name").GetString());
            Assert.Equal(5, version.GetProperty("inference_count").GetInt64());
            Assert.Equal(2, version.GetProperty("execution_count").GetInt64());
            Assert.True(version.GetProperty("last_inference").GetInt64() > DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds());
            var phases = version.GetProperty("inference_stats");
            Assert.Equal(2, phases.GetProperty("success").GetProperty("count").GetInt64());
            Assert.Equal(1, phases.GetProperty("fail").GetProperty("count").GetInt64());
            foreach (var phase in new[] { "success", "fail", "compute_input", "compute_infer", "compute_output" })
            {
                Assert.True(phases.GetProperty(phase).GetProperty("ns").GetInt64() > 0, $"{phase} has no time: {phases}");
            }
            Assert.True(phases.GetProperty("success").GetProperty("ns").GetInt64()
                >= phases.GetProperty("compute_infer").GetProperty("ns").GetInt64());
        }
    }

    [Fact]
    public async Task The_repository_index_lists_every_stored_model_and_whether_it_can_serve()
    {
        var client = _factory.CreateClient();
        var models = await client.GetJsonAsync("/api/v1/models");
        var ids = models.EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToHashSet();

        var response = await client.PostAsync(new Uri("/v2/repository/index", UriKind.Relative), ServiceApi.JsonBody("{}"));

        var index = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Equal(ids, index.EnumerateArray().Select(e => e.GetProperty("version").GetString()).ToHashSet());
        Assert.All(index.EnumerateArray(), e =>
        {
            Assert.Equal("modelservice", e.GetProperty("name").GetString());
            Assert.Equal("READY", e.GetProperty("state").GetString());
        });
    }

    public void Dispose() => _factory.Dispose();

    private static Uri Infer => new("/v2/models/modelservice/infer", UriKind.Relative);
}
