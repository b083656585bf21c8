using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace ModelService.Api.Tests.Training;

/// <summary>A training request is weighed before it is queued: rows x encoded width (one-hot columns included),
/// activations and optimiser state against Training:MaxWorkingSetBytes.</summary>
public sealed class TrainingWorkingSetTests : IDisposable
{
    private readonly ModelServiceFactory _factory = new(new Dictionary<string, string?>
    {
        ["Training:MaxWorkingSetBytes"] = "8388608",
    });

    [Fact]
    public async Task A_one_hot_explosion_is_400_giving_the_estimate_and_the_limit_and_creates_no_job()
    {
        var client = _factory.CreateClient();
        var csv = new StringBuilder("x,id,y\n");
        for (var i = 0; i < 3000; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{i % 17},id{i},{i % 23}\n");
        }
        var dataset = (await client.UploadCsvAsync(csv.ToString())).GetProperty("id").GetString();

        var response = await client.PostAsJsonAsync("/api/v1/training-jobs", new { datasetId = dataset, target = "y", hiddenChannels = new[] { 4 } });

        var problem = await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "features");
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("Training:MaxWorkingSetBytes", detail, StringComparison.Ordinal);
        Assert.Contains("3001 encoded inputs", detail, StringComparison.Ordinal);
        Assert.Contains("the limit is 8 MB", detail, StringComparison.Ordinal);
        Assert.Equal(0, (await client.GetJsonAsync("/api/v1/training-jobs")).GetArrayLength());

        var narrow = await client.TrainAsync(new { datasetId = dataset, target = "y", features = new[] { "x" }, epochs = 1 });
        Assert.Equal("succeeded", narrow.GetProperty("status").GetString());
    }

    public void Dispose() => _factory.Dispose();
}
