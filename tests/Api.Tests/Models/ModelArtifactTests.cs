using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Text;

namespace ModelService.Api.Tests.Models;

/// <summary>GET /api/v1/models/{id}/artifact and POST /api/v1/models: a model leaves as one archive and comes back
/// with the same predictions; a bad or tampered archive is a 4xx that stores nothing.</summary>
public sealed class ModelArtifactTests(ModelServiceFactory factory) : IClassFixture<ModelServiceFactory>
{
    private static readonly double[][] Rows = [[0.5, 0.5], [0.1, 0.9], [0.8, 0.3]];

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A_downloaded_model_imports_back_with_the_same_predictions()
    {
        var modelId = await TrainModelAsync();
        var before = await _client.PredictAsync(new { modelId, instances = Rows });

        var download = await _client.GetAsync(new Uri($"/api/v1/models/{modelId}/artifact", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/gzip", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"{modelId}.tar.gz", download.Content.Headers.ContentDisposition?.FileNameStar ?? download.Content.Headers.ContentDisposition?.FileName);
        var archive = await download.Content.ReadAsByteArrayAsync();
        Assert.Equal(["manifest.json", "weights.bin"], ReadEntries(archive).Select(e => e.Name));

        var deleted = await _client.DeleteAsync(new Uri($"/api/v1/models/{modelId}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var import = await _client.PostAsync(new Uri("/api/v1/models", UriKind.Relative), ServiceApi.Bytes(archive, "application/gzip"));

        var imported = await ServiceApi.ExpectAsync(import, HttpStatusCode.Created);
        var newId = imported.GetProperty("id").GetString();
        Assert.NotEqual(modelId, newId);
        Assert.Equal($"/api/v1/models/{newId}", import.Headers.Location?.OriginalString);
        Assert.Equal(modelId, imported.GetProperty("tags").GetProperty("importedFrom").GetString());
        Assert.False(imported.GetProperty("active").GetBoolean());
        var after = await _client.PredictAsync(new { modelId = newId, instances = Rows });
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task A_tampered_archive_is_rejected_and_changes_nothing()
    {
        var modelId = await TrainModelAsync();
        var archive = await (await _client.GetAsync(new Uri($"/api/v1/models/{modelId}/artifact", UriKind.Relative))).Content.ReadAsByteArrayAsync();
        var entries = ReadEntries(archive);
        var weights = entries[1].Data;
        weights[^1] ^= 0x01;
        var before = await ModelIdsAsync();

        var response = await _client.PostAsync(new Uri("/api/v1/models", UriKind.Relative),
            ServiceApi.Bytes(WriteArchive(entries), "application/gzip"));

        var problem = await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "body");
        Assert.Contains("SHA-256", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await ModelIdsAsync());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(factory.StorageRoot, "models"), ".*"));
    }

    [Theory]
    [InlineData("../manifest.json")]
    [InlineData("/etc/weights.bin")]
    [InlineData("extra.txt")]
    public async Task AnArchiveWithAnyOtherEntryIsRejected(string entryName)
    {
        var modelId = await TrainModelAsync();
        var archive = await (await _client.GetAsync(new Uri($"/api/v1/models/{modelId}/artifact", UriKind.Relative))).Content.ReadAsByteArrayAsync();
        var entries = ReadEntries(archive);
        entries.Add((entryName, Encoding.UTF8.GetBytes("{}")));
        var before = await ModelIdsAsync();

        var response = await _client.PostAsync(new Uri("/api/v1/models", UriKind.Relative),
            ServiceApi.Bytes(WriteArchive(entries), "application/gzip"));

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "body");
        Assert.Equal(before, await ModelIdsAsync());
        Assert.False(File.Exists(Path.Combine(factory.StorageRoot, "manifest.json")));
    }

    [Fact]
    public async Task Not_an_archive_is_400_and_another_content_type_is_415()
    {
        var garbage = await _client.PostAsync(new Uri("/api/v1/models", UriKind.Relative), ServiceApi.Bytes([1, 2, 3, 4], "application/gzip"));
        await ServiceApi.ExpectProblemAsync(garbage, HttpStatusCode.BadRequest, "body");

        var json = await _client.PostAsync(new Uri("/api/v1/models", UriKind.Relative), ServiceApi.JsonBody("{}"));
        await ServiceApi.ExpectProblemAsync(json, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Downloading_an_unknown_model_is_404()
    {
        var response = await _client.GetAsync(new Uri("/api/v1/models/mdl_AAAAAAAAAAAA/artifact", UriKind.Relative));

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.NotFound);
    }

    private async Task<string> TrainModelAsync()
    {
        var dataset = await _client.UploadCsvAsync(TestData.HousesCsv(200, seed: 5));
        var job = await _client.TrainAsync(new { datasetId = dataset.GetProperty("id").GetString(), target = "price", epochs = 2, activate = false });
        return job.GetProperty("modelId").GetString()!;
    }

    private async Task<List<string>> ModelIdsAsync()
    {
        var models = await _client.GetJsonAsync("/api/v1/models");
        return [.. models.EnumerateArray().Select(m => m.GetProperty("id").GetString()!).Order(StringComparer.Ordinal)];
    }

    private static List<(string Name, byte[] Data)> ReadEntries(byte[] archive)
    {
        using var tar = new TarReader(new GZipStream(new MemoryStream(archive), CompressionMode.Decompress));
        var entries = new List<(string, byte[])>();
        while (tar.GetNextEntry(copyData: true) is { } entry)
        {
            using var data = new MemoryStream();
            entry.DataStream?.CopyTo(data);
            entries.Add((entry.Name, data.ToArray()));
        }
        return entries;
    }

    private static byte[] WriteArchive(IEnumerable<(string Name, byte[] Data)> entries)
    {
        using var buffer = new MemoryStream();
        using (var tar = new TarWriter(new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true), TarEntryFormat.Pax, leaveOpen: false))
        {
            foreach (var (name, data) in entries)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
            }
        }
        return buffer.ToArray();
    }
}
