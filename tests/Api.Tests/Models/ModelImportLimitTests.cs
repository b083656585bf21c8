using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace ModelService.Api.Tests.Models;

/// <summary>POST /api/v1/models checks an archive completely before anything is stored: every tar byte counts against
/// the limits (metadata headers included), the manifest must be whole, and the network and tags obey the limits a
/// trained model does. Each refusal is a 4xx problem and leaves the model listing as it was.</summary>
public sealed class ModelImportLimitTests(ModelImportLimitTests.Service service) : IClassFixture<ModelImportLimitTests.Service>
{
    [Theory]
    [InlineData("training")]
    [InlineData("metrics")]
    [InlineData("features")]
    [InlineData("targetScaling")]
    [InlineData("network")]
    public async Task A_manifest_with_a_required_member_null_is_400_and_the_listing_still_works(string member)
    {
        var archive = service.ArchiveWith(manifest => manifest[member] = null);

        await ExpectRefusedAsync(archive, HttpStatusCode.BadRequest, "body");
    }

    [Fact]
    public async Task A_manifest_listing_a_null_feature_is_400()
    {
        var archive = service.ArchiveWith(manifest => manifest["features"] = new JsonArray((JsonNode?)null));

        await ExpectRefusedAsync(archive, HttpStatusCode.BadRequest, "body");
    }

    [Fact]
    public async Task A_layer_wider_than_training_allows_is_400_naming_it()
    {
        var archive = service.ArchiveWith(manifest => manifest["network"]!["hiddenChannels"] = new JsonArray(300_000));

        var problem = await ExpectRefusedAsync(archive, HttpStatusCode.BadRequest, "manifest.network.hiddenChannels[0]");
        Assert.Contains("4096", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_network_over_Training_MaxParameters_is_400()
    {
        var archive = service.ArchiveWith(manifest => manifest["network"]!["hiddenChannels"] = new JsonArray(4096, 4096));

        var problem = await ExpectRefusedAsync(archive, HttpStatusCode.BadRequest, "manifest.network");
        Assert.Contains("Training:MaxParameters", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tag_over_Limits_MaxTagLength_is_400()
    {
        var archive = service.ArchiveWith(manifest => manifest["tags"] = new JsonObject { ["note"] = new string('x', 2000) });

        var problem = await ExpectRefusedAsync(archive, HttpStatusCode.BadRequest, "manifest.tags");
        Assert.Contains("Limits:MaxTagLength", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manifest_over_Limits_MaxManifestBytes_is_413()
    {
        var archive = service.ArchiveWith(manifest => manifest["padding"] = new string(' ', 70_000));

        var problem = await ExpectRefusedAsync(archive, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("Limits:MaxManifestBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_PAX_header_declaring_gigabytes_is_413_before_it_is_read()
    {
        var archive = Gzip([.. TarHeader("PaxHeaders/manifest.json", 'x', 1_500_000_000), .. new byte[64 * 1024]]);

        var problem = await ExpectRefusedAsync(archive, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("headers", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_GNU_long_name_over_Limits_MaxArchiveHeaderBytes_is_413()
    {
        var name = Encoding.ASCII.GetBytes(new string('a', 100_000));
        var archive = Gzip([.. TarHeader("././@LongLink", 'L', name.Length), .. Padded(name), .. TarHeader("x", '0', 0), .. new byte[1024]]);

        var problem = await ExpectRefusedAsync(archive, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("Limits:MaxArchiveHeaderBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entry_declaring_more_than_the_body_limit_is_413()
    {
        var archive = Gzip([.. TarHeader("weights.bin", '0', 10_000_000_000), .. new byte[4096]]);

        await ExpectRefusedAsync(archive, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task A_damaged_header_checksum_is_400()
    {
        var header = TarHeader("manifest.json", '0', 10);
        header[0] ^= 1;

        await ExpectRefusedAsync(Gzip([.. header, .. new byte[2048]]), HttpStatusCode.BadRequest, "body");
    }

    [Fact]
    public async Task The_unchanged_archive_still_imports()
    {
        var response = await service.Client.PostAsync(new Uri("/api/v1/models", UriKind.Relative),
            ServiceApi.Bytes(service.ArchiveWith(_ => { }), "application/gzip"));

        await ServiceApi.ExpectAsync(response, HttpStatusCode.Created);
    }

    [Fact]
    public async Task An_archive_with_a_modification_time_before_1970_imports()
    {
        var response = await service.Client.PostAsync(new Uri("/api/v1/models", UriKind.Relative),
            ServiceApi.Bytes(service.ArchiveWith(_ => { }, new DateTimeOffset(1601, 1, 1, 0, 0, 0, TimeSpan.Zero)), "application/gzip"));

        await ServiceApi.ExpectAsync(response, HttpStatusCode.Created);
    }

    private async Task<System.Text.Json.JsonElement> ExpectRefusedAsync(byte[] archive, HttpStatusCode status, string? field = null)
    {
        var before = await service.ListingAsync();

        var response = await service.Client.PostAsync(new Uri("/api/v1/models", UriKind.Relative), ServiceApi.Bytes(archive, "application/gzip"));

        var problem = await ServiceApi.ExpectProblemAsync(response, status, field);
        Assert.Equal(before, await service.ListingAsync());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(service.StorageRoot, "models"), ".*"));
        return problem;
    }

    /// <summary>A ustar header block: name, mode, uid, gid, size (octal, or base-256 beyond 8 GiB), mtime, checksum,
    /// type, magic.</summary>
    private static byte[] TarHeader(string name, char type, long size)
    {
        var header = new byte[512];
        Encoding.ASCII.GetBytes(name.Length > 99 ? name[..99] : name).CopyTo(header, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(header, 100);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 108);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 116);
        if (size < 8L * 1024 * 1024 * 1024)
        {
            Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0') + "\0").CopyTo(header, 124);
        }
        else
        {
            header[124] = 0x80;
            for (var i = 0; i < 8; i++)
            {
                header[135 - i] = (byte)(size >> (8 * i));
            }
        }
        Encoding.ASCII.GetBytes("00000000000\0").CopyTo(header, 136);
        header[156] = (byte)type;
        Encoding.ASCII.GetBytes("ustar\0" + "00").CopyTo(header, 257);
        "        "u8.CopyTo(header.AsSpan(148));
        var sum = header.Sum(b => (long)b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        return header;
    }

    private static byte[] Padded(byte[] data) => [.. data, .. new byte[(512 - (data.Length % 512)) % 512]];

    private static byte[] Gzip(byte[] tar)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(tar);
        }
        return buffer.ToArray();
    }

    /// <summary>A service with small import limits holding one trained model, whose archive the tests alter.</summary>
    public sealed class Service : IAsyncLifetime, IDisposable
    {
        private readonly ModelServiceFactory _factory = new(new Dictionary<string, string?>
        {
            ["Limits:MaxRequestBodyBytes"] = "1048576",
            ["Limits:MaxManifestBytes"] = "65536",
            ["Training:MaxParameters"] = "200000",
        });

        private List<(string Name, byte[] Data)> _entries = [];

        public HttpClient Client { get; private set; } = null!;

        public string StorageRoot => _factory.StorageRoot;

        public async Task<string> ListingAsync() => (await Client.GetJsonAsync("/api/v1/models")).GetRawText();

        /// <summary>The trained model's archive with its manifest changed by <paramref name="edit"/>.</summary>
        public byte[] ArchiveWith(Action<JsonObject> edit, DateTimeOffset? modified = null)
        {
            var manifest = JsonNode.Parse(_entries.Single(e => e.Name == "manifest.json").Data)!.AsObject();
            edit(manifest);
            using var buffer = new MemoryStream();
            using (var tar = new TarWriter(new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true), TarEntryFormat.Pax, leaveOpen: false))
            {
                foreach (var (name, data) in _entries)
                {
                    var bytes = name == "manifest.json" ? Encoding.UTF8.GetBytes(manifest.ToJsonString()) : data;
                    var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(bytes) };
                    if (modified is { } time)
                    {
                        entry.ModificationTime = time;
                    }
                    tar.WriteEntry(entry);
                }
            }
            return buffer.ToArray();
        }

        public async Task InitializeAsync()
        {
            Client = _factory.CreateClient();
            var dataset = await Client.UploadCsvAsync(TestData.HousesCsv(100, seed: 5));
            var job = await Client.TrainAsync(new { datasetId = dataset.GetProperty("id").GetString(), target = "price", epochs = 1, activate = false });
            var archive = await Client.GetByteArrayAsync(new Uri($"/api/v1/models/{job.GetProperty("modelId").GetString()}/artifact", UriKind.Relative));
            using var tar = new TarReader(new GZipStream(new MemoryStream(archive), CompressionMode.Decompress));
            while (tar.GetNextEntry(copyData: true) is { } entry)
            {
                using var data = new MemoryStream();
                entry.DataStream!.CopyTo(data);
                _entries.Add((entry.Name, data.ToArray()));
            }
        }

        public Task DisposeAsync() => Task.CompletedTask;

        public void Dispose() => _factory.Dispose();
    }
}
