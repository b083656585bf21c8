using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelService.Api.Datasets;
using ModelService.Model.Data;

namespace ModelService.Api.Tests.Datasets;

public sealed class TensorDatasetTests : IDisposable
{
    private const string Npz = "application/x-npz";
    private const int MaxTensorElements = 10_000;

    private readonly ModelServiceFactory _factory = new(new Dictionary<string, string?>
    {
        ["Limits:MaxTensorElements"] = MaxTensorElements.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Limits:MaxRequestBodyBytes"] = "1048576",
    });

    public void Dispose() => _factory.Dispose();

    private IDatasetStore Store => _factory.Services.GetRequiredService<IDatasetStore>();

    private async Task<HttpResponseMessage> PostAsync(byte[] body, string contentType = Npz, string query = "?name=tiles") =>
        await _factory.CreateClient().PostAsync(new Uri("/api/v1/datasets" + query, UriKind.Relative), ServiceApi.Bytes(body, contentType));

    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Data", name));

    [Fact]
    public async Task An_npz_written_by_numpy_savez_is_a_tensor_dataset_with_its_shape_statistics_and_values()
    {
        var response = await PostAsync(Fixture("tensor_savez.npz"));

        var info = await ServiceApi.ExpectAsync(response, HttpStatusCode.Created);
        Assert.Equal("tensor", info.GetProperty("kind").GetString());
        Assert.Equal("tiles", info.GetProperty("name").GetString());
        Assert.Equal(3, info.GetProperty("rowCount").GetInt32());
        Assert.Equal([4, 5, 2], info.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal([4, 5], info.GetProperty("targetShape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Empty(info.GetProperty("columns").EnumerateArray());
        // x = n + h/10 + w/100 + c/1000 over n < 3, h < 4, w < 5; channel 1 lost x[1, 2, 3, 1] to NaN.
        var channel1 = info.GetProperty("channels")[1];
        Assert.Equal(1, channel1.GetProperty("missing").GetInt32());
        Assert.Equal(0.001, channel1.GetProperty("min").GetDouble(), 6);
        Assert.Equal(2.341, channel1.GetProperty("max").GetDouble(), 6);
        Assert.Equal(((1 + 0.15 + 0.02 + 0.001) * 60 - 1.231) / 59, channel1.GetProperty("mean").GetDouble(), 5);
        Assert.Equal(0, info.GetProperty("channels")[0].GetProperty("missing").GetInt32());
        Assert.Equal(1, info.GetProperty("target").GetProperty("missing").GetInt32());

        var data = Store.LoadTensor(info.GetProperty("id").GetString()!)!;
        Assert.True(data.PerPositionTarget);
        Assert.Equal(2.0f + 0.1f + 0.04f + 0.001f, data.X[((((2 * 4) + 1) * 5) + 4) * 2 + 1], 5);
        Assert.True(float.IsNaN(data.X[((((1 * 4) + 2) * 5) + 3) * 2 + 1]));
        Assert.True(double.IsNaN(data.Y[2 * 20]));
        Assert.Equal((3 * (1 + 0.3 + 0.04)) - (2 * (1 + 0.3 + 0.04 + 0.001)), data.Y[20 + (3 * 5) + 4], 5);
    }

    [Fact]
    public async Task An_npz_from_savez_compressed_with_float64_x_and_float32_y_reads_as_float32_x_and_a_target_per_sample()
    {
        var response = await PostAsync(Fixture("tensor_savez_compressed.npz"), "application/octet-stream", "?format=npz");

        var info = await ServiceApi.ExpectAsync(response, HttpStatusCode.Created);
        Assert.Equal([2, 2, 3], info.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Empty(info.GetProperty("targetShape").EnumerateArray());
        Assert.Equal(DatasetUpload.DefaultName, info.GetProperty("name").GetString());
        var data = Store.LoadTensor(info.GetProperty("id").GetString()!)!;
        Assert.False(data.PerPositionTarget);
        Assert.Equal([0, 1.5, 3, 4.5], data.Y);
        // x = n - h + w * c at [3, 0, 1, 2].
        Assert.Equal(5f, data.X[(((3 * 2 * 2) + 1) * 3) + 2]);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 2)]
    [InlineData(true, 3)]
    public async Task Npz_built_from_the_documented_layout_reads_back_exactly_stored_or_deflated_in_any_header_version(bool deflate, byte version)
    {
        var data = TensorSamples.PerPosition(count: 5, height: 3, width: 2, channels: 3, seed: 4);
        data.X[7] = float.NaN;
        var npz = TensorSamples.Zip(deflate,
            ("y.npy", TensorSamples.Npy(TensorSamples.Dict("<f8", 5, 3, 2), MemoryMarshal.AsBytes(data.Y.AsSpan()), version)),
            ("x.npy", TensorSamples.Npy(TensorSamples.Dict("<f4", 5, 3, 2, 3), MemoryMarshal.AsBytes(data.X.AsSpan()), version)));

        var info = await ServiceApi.ExpectAsync(await PostAsync(npz), HttpStatusCode.Created);

        var loaded = Store.LoadTensor(info.GetProperty("id").GetString()!)!;
        Assert.Equal(data.X, loaded.X);
        Assert.Equal(data.Y, loaded.Y);
    }

    [Fact]
    public async Task The_json_form_stores_the_same_dataset_as_the_npz_of_the_same_values()
    {
        var client = _factory.CreateClient();
        float?[][][][] x = [[[[0.5f, 1], [null, 2]]], [[[1.5f, 3], [2.5f, 4]]]];
        double?[] y = [1, null];
        var data = new TensorData(2, 1, 2, 2, [0.5f, 1, float.NaN, 2, 1.5f, 3, 2.5f, 4], [1, double.NaN], perPositionTarget: false);

        var fromJson = await client.UploadJsonAsync(new { name = "small", x, y });
        var fromNpz = await ServiceApi.ExpectAsync(await PostAsync(TensorSamples.Npz(data, deflate: true)), HttpStatusCode.Created);

        Assert.Equal("small", fromJson.GetProperty("name").GetString());
        Assert.Equal("tensor", fromJson.GetProperty("kind").GetString());
        Assert.Equal([1, 2, 2], fromJson.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(fromNpz.GetProperty("sha256").GetString(), fromJson.GetProperty("sha256").GetString());
        Assert.Equal(fromNpz.GetProperty("channels").GetRawText(), fromJson.GetProperty("channels").GetRawText());
        var loaded = Store.LoadTensor(fromJson.GetProperty("id").GetString()!)!;
        Assert.Equal(data.X, loaded.X);
        Assert.Equal(data.Y, loaded.Y);
    }

    [Fact]
    public async Task Tensor_datasets_are_listed_read_and_deleted_beside_tables_which_say_they_are_tables()
    {
        var client = _factory.CreateClient();
        var table = await client.UploadCsvAsync("a,y\n1,2\n", "table");
        var tensor = await ServiceApi.ExpectAsync(await PostAsync(Fixture("tensor_savez.npz")), HttpStatusCode.Created);
        var id = tensor.GetProperty("id").GetString()!;

        var list = await client.GetJsonAsync("/api/v1/datasets");
        var one = await client.GetJsonAsync($"/api/v1/datasets/{id}");

        Assert.Equal(["tensor", "table"], list.EnumerateArray().Select(d => d.GetProperty("kind").GetString()));
        Assert.Equal("table", table.GetProperty("kind").GetString());
        Assert.False(table.TryGetProperty("shape", out _));
        Assert.False(table.TryGetProperty("channels", out _));
        Assert.Equal(tensor.GetRawText(), one.GetRawText());
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(new Uri($"/api/v1/datasets/{id}", UriKind.Relative))).StatusCode);
        await ServiceApi.ExpectProblemAsync(await client.GetAsync(new Uri($"/api/v1/datasets/{id}", UriKind.Relative)), HttpStatusCode.NotFound);
        Assert.Single((await client.GetJsonAsync("/api/v1/datasets")).EnumerateArray());
    }

    [Fact]
    public async Task A_dataset_stored_before_datasets_had_a_kind_reads_back_as_a_table()
    {
        var client = _factory.CreateClient();
        var id = (await client.UploadCsvAsync("a,y\n1,2\n3,4\n", "old")).GetProperty("id").GetString()!;
        var info = Path.Combine(_factory.StorageRoot, "datasets", id, "info.json");
        var stored = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(info))!.AsObject();
        Assert.True(stored.Remove("kind"));
        File.WriteAllText(info, stored.ToJsonString());

        var read = await client.GetJsonAsync($"/api/v1/datasets/{id}");

        Assert.Equal("table", read.GetProperty("kind").GetString());
        Assert.Equal([1.0, 3.0], Store.Load(id)!.Columns[0].Numbers!);
    }

    public static TheoryData<string, string, string> BadNpz => new()
    {
        { "not a zip", "body", "" },
        { "no y.npy", "y", "" },
        { "an extra entry", "body", "notes.txt" },
        { "an entry outside the archive's root", "body", "../x.npy" },
        { "integer dtype", "x", "'<i8'" },
        { "object dtype (pickle)", "x", "pickled" },
        { "structured dtype", "x", "structured" },
        { "big-endian", "x", "big-endian" },
        { "Fortran order", "x", "Fortran" },
        { "format version 4.0", "x", "4.0" },
        { "Python code in the header", "x", "header" },
        { "not an npy entry", "x", "NUMPY" },
        { "x of three dimensions", "x", "[N, H, W, C]" },
        { "a zero dimension", "x", "at least 1" },
        { "y of another sample count", "y", "[2]" },
        { "y per position of another size", "y", "[2, 2, 2]" },
        { "data shorter than the shape", "x", "needs 32" },
        { "data longer than the shape", "x", "needs 32" },
        { "an infinite value", "x", "x[1][0][1][0]" },
        { "an infinite target", "y", "y[1]" },
        { "an unsupported compression method", "body", "not a valid .npz" },
    };

    [Theory]
    [MemberData(nameof(BadNpz))]
    public async Task A_bad_npz_is_a_400_naming_the_array_and_stores_nothing(string problem, string field, string says)
    {
        var response = await PostAsync(BadArchive(problem));

        var detail = (await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, field)).GetProperty("detail").GetString();
        Assert.Contains(says, detail, StringComparison.Ordinal);
        Assert.Empty((await _factory.CreateClient().GetJsonAsync("/api/v1/datasets")).EnumerateArray());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_factory.StorageRoot, "datasets")));
    }

    /// <summary>x [2, 2, 2, 1] float32 and y [2] float64 (32 bytes of x data), broken as <paramref name="problem"/> says.</summary>
    internal static byte[] BadArchive(string problem)
    {
        var x = TensorSamples.Npy(new float[8], 2, 2, 2, 1);
        var y = TensorSamples.Npy(new double[2], 2);
        byte[] Entry(string dict, int bytes = 32) => TensorSamples.Npy(dict, new byte[bytes]);
        byte[] WithX(byte[] entry) => TensorSamples.Zip(false, ("x.npy", entry), ("y.npy", y));
        return problem switch
        {
            "not a zip" => "x,y\n1,2\n"u8.ToArray(),
            "no y.npy" => TensorSamples.Zip(false, ("x.npy", x)),
            "an extra entry" => TensorSamples.Zip(false, ("x.npy", x), ("y.npy", y), ("notes.txt", "hello"u8.ToArray())),
            "an entry outside the archive's root" => TensorSamples.Zip(false, ("../x.npy", x), ("y.npy", y)),
            "integer dtype" => WithX(Entry(TensorSamples.Dict("<i8", 2, 2, 2, 1), 64)),
            "object dtype (pickle)" => WithX(TensorSamples.Npy(TensorSamples.Dict("|O", 2, 2, 2, 1), "\x80\x04\x95cos\nsystem\n"u8)),
            "structured dtype" => WithX(Entry("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 2, 2, 1), }")),
            "big-endian" => WithX(Entry(TensorSamples.Dict(">f4", 2, 2, 2, 1))),
            "Fortran order" => WithX(Entry("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2, 2, 1), }")),
            "format version 4.0" => WithX(TensorSamples.Npy(TensorSamples.Dict("<f4", 2, 2, 2, 1), new byte[32], major: 4)),
            "Python code in the header" => WithX(Entry("{'descr': '<f4', 'fortran_order': False, 'shape': __import__('os').getpid(), }")),
            "not an npy entry" => WithX("\x80\x04\x95 pickled bytes"u8.ToArray()),
            "x of three dimensions" => WithX(Entry(TensorSamples.Dict("<f4", 2, 2, 4), 64)),
            "a zero dimension" => WithX(Entry(TensorSamples.Dict("<f4", 2, 0, 2, 1), 0)),
            "y of another sample count" => TensorSamples.Zip(false, ("x.npy", x), ("y.npy", TensorSamples.Npy(new double[3], 3))),
            "y per position of another size" => TensorSamples.Zip(false, ("x.npy", x), ("y.npy", TensorSamples.Npy(new double[12], 2, 3, 2))),
            "data shorter than the shape" => WithX(Entry(TensorSamples.Dict("<f4", 2, 2, 2, 1), 28)),
            "data longer than the shape" => WithX(Entry(TensorSamples.Dict("<f4", 2, 2, 2, 1), 36)),
            "an infinite value" => WithX(TensorSamples.Npy([0, 0, 0, 0, 0, float.PositiveInfinity, 0, 0], 2, 2, 2, 1)),
            "an infinite target" => TensorSamples.Zip(false, ("x.npy", x), ("y.npy", TensorSamples.Npy([0, double.NegativeInfinity], 2))),
            "an unsupported compression method" => WithMethod(TensorSamples.Zip(false, ("x.npy", x), ("y.npy", y)), 14),
            _ => throw new ArgumentOutOfRangeException(nameof(problem)),
        };
    }

    [Fact]
    public async Task An_x_over_the_element_limit_is_a_413_found_from_the_header_before_the_values_are_read()
    {
        // The header promises 10,001 values; the entry holds none of them, so only the header can have been read.
        var npz = TensorSamples.Zip(false, ("x.npy", TensorSamples.Npy(TensorSamples.Dict("<f4", 1, 1, 1, MaxTensorElements + 1), [])),
            ("y.npy", TensorSamples.Npy(new double[1], 1)));

        var problem = await ServiceApi.ExpectProblemAsync(await PostAsync(npz), HttpStatusCode.RequestEntityTooLarge);

        Assert.Contains("Limits:MaxTensorElements", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_factory.StorageRoot, "datasets")));
    }

    [Fact]
    public async Task A_zip_bomb_is_never_inflated_past_the_size_its_header_promises_whether_the_zip_directory_is_honest_or_lies()
    {
        var header = TensorSamples.Npy(TensorSamples.Dict("<f4", 2, 2, 2, 1), new byte[32]);
        var bomb = new byte[header.Length + (64 * 1024 * 1024)];
        header.CopyTo(bomb, 0);
        var honest = TensorSamples.Zip(true, ("x.npy", bomb), ("y.npy", TensorSamples.Npy(new double[2], 2)));
        var lying = WithUncompressedSize(honest, "x.npy", (uint)header.Length);

        var sized = await ServiceApi.ExpectProblemAsync(await PostAsync(honest), HttpStatusCode.BadRequest, "x");
        // Told the entry is as long as the header promises, the reader stops there: the rest is never inflated.
        var truncated = await ServiceApi.ExpectAsync(await PostAsync(lying), HttpStatusCode.Created);

        Assert.True(honest.Length < 1024 * 1024, $"{honest.Length} bytes");
        Assert.Contains("needs 32", sized.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(new float[8], Store.LoadTensor(truncated.GetProperty("id").GetString()!)!.X);
    }

    [Fact]
    public async Task A_small_deflated_archive_whose_values_are_large_waits_for_a_large_body_slot_like_a_large_body()
    {
        using var factory = new ModelServiceFactory(new Dictionary<string, string?>
        {
            ["Limits:LargeBodyBytes"] = "16384",
            ["Limits:MaxConcurrentLargeBodies"] = "1",
            ["Limits:LargeBodyWaitSeconds"] = "1",
        });
        var client = factory.CreateClient();
        var npz = TensorSamples.Npz(new TensorData(100, 10, 10, 1, new float[10_000], new double[100], perPositionTarget: false), deflate: true);
        var slot = await factory.Services.GetRequiredService<ModelService.Api.Limits.LargeBodyGate>().EnterAsync(CancellationToken.None);

        var waiting = await client.PostAsync(new Uri("/api/v1/datasets", UriKind.Relative), ServiceApi.Bytes(npz, Npz));
        slot.Dispose();
        var served = await client.PostAsync(new Uri("/api/v1/datasets", UriKind.Relative), ServiceApi.Bytes(npz, Npz));

        Assert.True(npz.Length < 16384, $"{npz.Length} bytes");
        await ServiceApi.ExpectProblemAsync(waiting, HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(waiting.Headers.RetryAfter);
        Assert.Equal(100, (await ServiceApi.ExpectAsync(served, HttpStatusCode.Created)).GetProperty("rowCount").GetInt32());
    }

    /// <summary>Rewrites every entry's compression method (14 is LZMA) in its local header and directory record.</summary>
    private static byte[] WithMethod(byte[] zip, ushort method)
    {
        var bytes = (byte[])zip.Clone();
        for (var at = 0; at + 12 < bytes.Length; at++)
        {
            var signature = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
            if (signature == 0x04034b50)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at + 8), method);
            }
            else if (signature == 0x02014b50)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at + 10), method);
            }
        }
        return bytes;
    }

    /// <summary>Rewrites the uncompressed size of <paramref name="entry"/> in its local header and directory record.</summary>
    private static byte[] WithUncompressedSize(byte[] zip, string entry, uint size)
    {
        var bytes = (byte[])zip.Clone();
        var name = Encoding.ASCII.GetBytes(entry);
        for (var at = 0; at + 46 < bytes.Length; at++)
        {
            var signature = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
            if (signature == 0x04034b50 && bytes.AsSpan(at + 30).StartsWith(name))
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 22), size);
            }
            else if (signature == 0x02014b50 && bytes.AsSpan(at + 46).StartsWith(name))
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 24), size);
            }
        }
        return bytes;
    }

    [Theory]
    [InlineData("application/octet-stream", "", HttpStatusCode.UnsupportedMediaType, null)]
    [InlineData("application/octet-stream", "?format=parquet", HttpStatusCode.BadRequest, "format")]
    [InlineData("application/zip", "", HttpStatusCode.UnsupportedMediaType, null)]
    public async Task Npz_bytes_need_their_media_type_or_format_npz(string contentType, string query, HttpStatusCode status, string? field)
    {
        var response = await PostAsync(Fixture("tensor_savez.npz"), contentType, query);

        await ServiceApi.ExpectProblemAsync(response, status, field);
        Assert.Empty((await _factory.CreateClient().GetJsonAsync("/api/v1/datasets")).EnumerateArray());
    }

    public static TheoryData<string, string> BadJson => new()
    {
        { """{"x": [[[[1]]], [[[2], [3]]]], "y": [1, 2]}""", "x[1][0]" },
        { """{"x": [[[[1, 2]]], [[[3]]]], "y": [1, 2]}""", "x[1][0][0]" },
        { """{"x": [[[[1, "2"]]]], "y": [1]}""", "x[0][0][0][1]" },
        { """{"x": [[[[1, true]]]], "y": [1]}""", "x[0][0][0][1]" },
        { """{"x": [[[[1, 1e400]]]], "y": [1]}""", "x[0][0][0][1]" },
        { """{"x": [[[[1, [2]]]]], "y": [1]}""", "x[0][0][0][1]" },
        { """{"x": [[[1, 2]]], "y": [1]}""", "x" },
        { """{"x": [[[[]]]], "y": [1]}""", "x[0][0][0]" },
        { """{"x": [[[[1]]]], "y": [1, 2]}""", "y" },
        { """{"x": [[[[1]]]], "y": [[[1, 2]]]}""", "y" },
        { """{"x": [[[[1]]]], "y": [[1]]}""", "y" },
        { """{"x": [[[[1]]]]}""", "y" },
        { """{"y": [1]}""", "x" },
        { """{"x": 5, "y": [1]}""", "x" },
        { """{"x": [[[[1]]]], "y": [1], "columns": ["a"]}""", "columns" },
    };

    [Theory]
    [MemberData(nameof(BadJson))]
    public async Task A_bad_json_tensor_dataset_is_a_400_naming_where_and_stores_nothing(string json, string field)
    {
        var client = _factory.CreateClient();

        var response = await client.PostAsync(new Uri("/api/v1/datasets", UriKind.Relative), ServiceApi.JsonBody(json));

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Empty((await client.GetJsonAsync("/api/v1/datasets")).EnumerateArray());
    }

    [Fact]
    public async Task A_json_x_over_the_element_limit_is_a_413()
    {
        var client = _factory.CreateClient();
        var x = "[[[[" + string.Join(",", Enumerable.Repeat("0.5", MaxTensorElements + 1)) + "]]]]";

        var response = await client.PostAsync(new Uri("/api/v1/datasets", UriKind.Relative), ServiceApi.JsonBody($$"""{"x": {{x}}, "y": [1]}"""));

        var problem = await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("Limits:MaxTensorElements", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
