using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ModelService.Api.Tests.Training;

/// <summary>A training request's defaults are written once: what the OpenAPI document and docs/API.md say a left-out
/// field means is what a job that leaves it out gets, in its stored request and in the model it trains.</summary>
public sealed partial class TrainingDefaultsTests : IClassFixture<ModelServiceFactory>
{
    /// <summary>How each default shows in the trained model (ModelInfo), beside the job's stored request.</summary>
    private static readonly Dictionary<string, Func<JsonElement, JsonNode?>> s_inModel = new()
    {
        ["hiddenChannels"] = model => new JsonArray([.. model.GetProperty("architecture").GetProperty("layers").EnumerateArray()
            .Where(l => l.GetProperty("type").GetString() == "conv1x1").Select(l => (JsonNode)l.GetProperty("outChannels").GetInt32())]),
        ["activation"] = model => Node(model.GetProperty("architecture").GetProperty("activation")),
        ["dropout"] = model => Node(model.GetProperty("architecture").GetProperty("dropout")),
        ["batchNorm"] = model => Node(model.GetProperty("architecture").GetProperty("batchNorm")),
        ["epochs"] = model => Node(model.GetProperty("training").GetProperty("epochsRequested")),
        ["batchSize"] = model => Node(model.GetProperty("training").GetProperty("batchSize")),
        ["learningRate"] = model => Node(model.GetProperty("training").GetProperty("learningRate")),
        ["optimizer"] = model => Node(model.GetProperty("training").GetProperty("optimizer")),
        ["learningRateSchedule"] = model => Node(model.GetProperty("training").GetProperty("learningRateSchedule")),
        ["weightDecay"] = model => Node(model.GetProperty("training").GetProperty("weightDecay")),
        ["validationFraction"] = model => Node(model.GetProperty("training").GetProperty("validationFraction")),
        ["earlyStoppingPatience"] = model => Node(model.GetProperty("training").GetProperty("earlyStoppingPatience")),
        ["seed"] = model => Node(model.GetProperty("training").GetProperty("seed")),
        ["activate"] = model => Node(model.GetProperty("active")),
    };

    private readonly ModelServiceFactory _factory;

    public TrainingDefaultsTests(ModelServiceFactory factory) => _factory = factory;

    [Fact]
    public async Task Every_documented_default_of_a_training_request_is_what_a_job_that_leaves_the_field_out_gets()
    {
        var client = _factory.CreateClient();
        var openApi = await client.GetJsonAsync("/swagger/v1/swagger.json");
        var documented = Defaults(openApi, "TrainingRequest");
        var inDocs = DocsDefaults();

        // Every field with a value of its own is documented, in the OpenAPI document and in docs/API.md alike.
        Assert.Equal(s_inModel.Keys.Where(k => k != "earlyStoppingPatience").Order(), documented.Keys.Order());
        Assert.Equal([.. s_inModel.Keys.Order()], inDocs.Keys.Order());
        Assert.All(inDocs, d => Assert.True(Same(d.Value, documented.GetValueOrDefault(d.Key)),
            $"docs/API.md says {d.Key} defaults to {d.Value?.ToJsonString() ?? "null"}, the OpenAPI document {documented.GetValueOrDefault(d.Key)?.ToJsonString() ?? "null"}"));

        var datasetId = (await client.UploadCsvAsync(TestData.HousesCsv(200, seed: 3), "defaults")).GetProperty("id").GetString();
        var job = await client.TrainAsync(new { datasetId, target = "price" });
        var model = await client.GetJsonAsync($"/api/v1/models/{job.GetProperty("modelId").GetString()}");

        var request = job.GetProperty("request");
        Assert.All(inDocs, d =>
        {
            Assert.True(Same(d.Value, Node(request.GetProperty(d.Key))), $"{d.Key}: documented {d.Value?.ToJsonString() ?? "null"}, stored request {request.GetProperty(d.Key)}");
            var used = s_inModel[d.Key](model);
            Assert.True(Same(d.Value, used), $"{d.Key}: documented {d.Value?.ToJsonString() ?? "null"}, the model has {used?.ToJsonString() ?? "null"}");
        });

        // A generated client sends unset fields as null: that is the default too.
        var nulls = new JsonObject { ["datasetId"] = datasetId, ["target"] = "price" };
        foreach (var key in inDocs.Keys)
        {
            nulls[key] = null;
        }
        var sentNulls = (await client.SubmitAsync(nulls)).GetProperty("request");
        Assert.All(inDocs, d => Assert.True(Same(d.Value, Node(sentNulls.GetProperty(d.Key))),
            $"{d.Key}: documented {d.Value?.ToJsonString() ?? "null"}, a request sending null got {sentNulls.GetProperty(d.Key)}"));
    }

    [Fact]
    public async Task The_documented_default_limit_of_the_job_list_is_how_many_jobs_a_list_without_one_shows()
    {
        using var factory = new ModelServiceFactory(new Dictionary<string, string?>
        {
            ["Training:RunJobs"] = "false",
            ["Training:QueueCapacity"] = "1000",
        });
        var client = factory.CreateClient();
        var openApi = await client.GetJsonAsync("/swagger/v1/swagger.json");
        var limit = openApi.GetProperty("paths").GetProperty("/api/v1/training-jobs").GetProperty("get").GetProperty("parameters")
            .EnumerateArray().Single(p => p.GetProperty("name").GetString() == "limit").GetProperty("schema").GetProperty("default").GetInt32();
        var inDocs = DocsListLimit().Match(File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "API.md")));
        Assert.True(inDocs.Success, "docs/API.md no longer gives the job list's limit");
        Assert.Equal(limit, int.Parse(inDocs.Groups["default"].Value, CultureInfo.InvariantCulture));
        var datasetId = (await client.UploadCsvAsync(TestData.HousesCsv(20, seed: 1))).GetProperty("id").GetString();

        for (var i = 0; i <= limit; i++)
        {
            await client.SubmitAsync(new { datasetId, target = "price" });
        }

        Assert.Equal(limit, (await client.GetJsonAsync("/api/v1/training-jobs")).GetArrayLength());
        Assert.Equal(limit + 1, (await client.GetJsonAsync($"/api/v1/training-jobs?limit={limit + 1}")).GetArrayLength());
    }

    /// <summary>The <c>default</c> of each property of a component schema.</summary>
    private static Dictionary<string, JsonNode?> Defaults(JsonElement openApi, string schema) =>
        openApi.GetProperty("components").GetProperty("schemas").GetProperty(schema).GetProperty("properties").EnumerateObject()
            .Where(p => p.Value.TryGetProperty("default", out _))
            .ToDictionary(p => p.Name, p => Node(p.Value.GetProperty("default")));

    /// <summary>The list under "Defaults for what a request leaves out" in docs/API.md: `field` value, ... (features,
    /// whose default depends on the dataset, is left out).</summary>
    private static Dictionary<string, JsonNode?> DocsDefaults()
    {
        var docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "API.md"));
        var start = docs.IndexOf("Defaults for what a request leaves out:", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/API.md no longer lists the training request's defaults");
        var end = docs.IndexOf("\n- ", start, StringComparison.Ordinal);
        var list = docs[start..end];
        list = list[..list.IndexOf(" (as in", StringComparison.Ordinal)];
        return DocsEntry().Matches(list).Where(m => m.Groups["field"].Value != "features")
            .ToDictionary(m => m.Groups["field"].Value, m => Value(m.Groups["value"].Value.Trim()));
    }

    /// <summary>A value as the docs write it: JSON where it parses (numbers, lists, true, null), otherwise a wire name.</summary>
    private static JsonNode? Value(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    private static JsonNode? Node(JsonElement element) => JsonNode.Parse(element.GetRawText());

    /// <summary>JSON equality with numbers compared by value (0 and 0.0 are the same default).</summary>
    private static bool Same(JsonNode? a, JsonNode? b) => (a, b) switch
    {
        (null, null) => true,
        (JsonValue x, JsonValue y) when x.GetValueKind() == JsonValueKind.Number && y.GetValueKind() == JsonValueKind.Number =>
            Number(x) == Number(y),
        (JsonArray x, JsonArray y) => x.Count == y.Count && x.Zip(y).All(p => Same(p.First, p.Second)),
        _ => JsonNode.DeepEquals(a, b),
    };

    private static double Number(JsonValue value) => double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture);

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "docs", "API.md")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException($"No docs/API.md above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"takes `status` and `limit` \([^)]*default (?<default>\d+)\)")]
    private static partial Regex DocsListLimit();

    [GeneratedRegex(@"`(?<field>\w+)`\s+(?<value>\[[^\]]*\]|[^,`]+)")]
    private static partial Regex DocsEntry();
}
