using System.Net;

namespace ModelService.Api.Tests.Models;

/// <summary>A broken model on disk is reported by id and reason; no answer names where the service keeps its files.</summary>
public sealed class StoragePathDisclosureTests : IDisposable
{
    private readonly ModelServiceFactory _factory = new();

    [Fact]
    public async Task Listing_activating_and_downloading_a_broken_model_name_no_storage_path()
    {
        var client = _factory.CreateClient();
        var dataset = await client.UploadCsvAsync(TestData.HousesCsv(60, seed: 3));
        var job = await client.TrainAsync(new { datasetId = dataset.GetProperty("id").GetString(), target = "price", epochs = 1, activate = false });
        var modelId = job.GetProperty("modelId").GetString()!;
        await File.WriteAllTextAsync(Path.Combine(_factory.StorageRoot, "models", modelId, "manifest.json"), "{\"broken\": ");

        // A second host reads the store afresh, as a restarted service would.
        using var restarted = new ModelServiceFactory(null, _factory.StorageRoot);
        var log = new CapturedLog();
        var fresh = CapturedLog.Client(restarted, log);
        var listing = await fresh.GetAsync(new Uri("/api/v1/models", UriKind.Relative));
        var activate = await fresh.PostAsync(new Uri($"/api/v1/models/{modelId}/activate", UriKind.Relative), null);
        var download = await fresh.GetAsync(new Uri($"/api/v1/models/{modelId}/artifact", UriKind.Relative));

        var listed = await ServiceApi.ExpectAsync(listing, HttpStatusCode.OK);
        var broken = listed.EnumerateArray().Single(m => m.GetProperty("id").GetString() == modelId);
        Assert.Equal("invalid", broken.GetProperty("status").GetString());
        Assert.Contains("manifest.json", broken.GetProperty("error").GetString(), StringComparison.Ordinal);
        await ServiceApi.ExpectProblemAsync(activate, HttpStatusCode.Conflict);
        await ServiceApi.ExpectProblemAsync(download, HttpStatusCode.Conflict);
        foreach (var response in new[] { listing, activate, download })
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain(_factory.StorageRoot, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Path.GetTempPath(), text, StringComparison.Ordinal);
        }
        // The operator's log keeps what the answers leave out.
        Assert.Contains(log.Lines, line => line.Contains(modelId, StringComparison.Ordinal)
            && line.Contains(Path.Combine(_factory.StorageRoot, "models", modelId), StringComparison.Ordinal));
    }

    public void Dispose() => _factory.Dispose();
}
