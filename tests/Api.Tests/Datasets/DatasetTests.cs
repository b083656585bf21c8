using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ModelService.Api.Tests.Datasets;

public sealed class DatasetTests : IDisposable
{
    private readonly ModelServiceFactory _factory = new(new Dictionary<string, string?>
    {
        ["Limits:MaxDatasetRows"] = "50",
        ["Limits:MaxDatasetColumns"] = "5",
        ["Limits:MaxRequestBodyBytes"] = "4096",
    });

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task An_upload_without_a_name_gets_the_name_the_openapi_document_gives_as_its_default()
    {
        var client = _factory.CreateClient();
        var schema = (await client.GetJsonAsync("/swagger/v1/swagger.json")).GetProperty("components").GetProperty("schemas");
        var documented = schema.GetProperty("DatasetUpload").GetProperty("properties").GetProperty("name").GetProperty("default").GetString();

        var fromJson = await client.UploadJsonAsync(new { columns = new[] { "a", "y" }, rows = new[] { new[] { 1, 2 } } });
        var fromCsv = await ServiceApi.ExpectAsync(await client.PostAsync(new Uri("/api/v1/datasets", UriKind.Relative), ServiceApi.Csv("a,y\n1,2\n")),
            HttpStatusCode.Created);

        Assert.False(string.IsNullOrEmpty(documented));
        Assert.Equal(documented, fromJson.GetProperty("name").GetString());
        Assert.Equal(documented, fromCsv.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Csv_upload_infers_types_statistics_and_keeps_quoted_commas_and_newlines()
    {
        var client = _factory.CreateClient();
        var csv = "size,colour,\"note, free text\",price\n1.5,red,\"a, b\",100\n2.5,,\"line one\nline two\",200\n,blue,\"say \"\"hi\"\"\",300\n";

        var response = await client.PostAsync(new Uri("/api/v1/datasets?name=shop", UriKind.Relative), ServiceApi.Csv(csv));

        var info = await ServiceApi.ExpectAsync(response, HttpStatusCode.Created);
        var id = info.GetProperty("id").GetString()!;
        Assert.Equal($"/api/v1/datasets/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("shop", info.GetProperty("name").GetString());
        Assert.Equal(3, info.GetProperty("rowCount").GetInt32());
        Assert.Matches("^[0-9a-f]{64}$", info.GetProperty("sha256").GetString());
        var columns = info.GetProperty("columns").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);
        Assert.Equal(["size", "colour", "note, free text", "price"], columns.Keys);
        var size = columns["size"];
        Assert.Equal("numeric", size.GetProperty("type").GetString());
        Assert.Equal(1, size.GetProperty("missing").GetInt32());
        Assert.Equal(1.5, size.GetProperty("min").GetDouble());
        Assert.Equal(2.5, size.GetProperty("max").GetDouble());
        Assert.Equal(2.0, size.GetProperty("mean").GetDouble());
        var colour = columns["colour"];
        Assert.Equal("categorical", colour.GetProperty("type").GetString());
        Assert.Equal(1, colour.GetProperty("missing").GetInt32());
        Assert.Equal(["blue", "red"], colour.GetProperty("categories").EnumerateArray().Select(c => c.GetString()));
        Assert.Contains("line one\nline two", columns["note, free text"].GetProperty("categories").EnumerateArray().Select(c => c.GetString()));
        Assert.Contains("say \"hi\"", columns["note, free text"].GetProperty("categories").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(200, columns["price"].GetProperty("mean").GetDouble());
    }

    [Fact]
    public async Task Json_upload_matches_the_contract_example()
    {
        var client = _factory.CreateClient();

        var info = await client.UploadJsonAsync(new { name = "x", columns = new[] { "a", "b", "y" }, rows = new object?[][] { [1.5, "red", 3], [2, null, 4] } });

        Assert.Equal("x", info.GetProperty("name").GetString());
        Assert.Equal(2, info.GetProperty("rowCount").GetInt32());
        var types = info.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("type").GetString());
        Assert.Equal(["numeric", "categorical", "numeric"], types);
        Assert.Equal(1, info.GetProperty("columns")[1].GetProperty("missing").GetInt32());
    }

    [Fact]
    public async Task Same_content_has_the_same_sha256_whatever_the_format()
    {
        var client = _factory.CreateClient();

        var fromCsv = await client.UploadCsvAsync("a,b\n1,x\n2.5,y\n");
        var fromJson = await client.UploadJsonAsync(new { columns = new[] { "a", "b" }, rows = new object[][] { [1, "x"], [2.5, "y"] } });
        var other = await client.UploadCsvAsync("a,b\n1,x\n2.5,z\n");

        Assert.Equal(fromCsv.GetProperty("sha256").GetString(), fromJson.GetProperty("sha256").GetString());
        Assert.NotEqual(fromCsv.GetProperty("sha256").GetString(), other.GetProperty("sha256").GetString());
        var stored = File.ReadAllBytes(Path.Combine(_factory.StorageRoot, "datasets", fromCsv.GetProperty("id").GetString()!, "data.csv"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(stored)), fromCsv.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task Datasets_are_listed_newest_first_read_and_deleted()
    {
        var client = _factory.CreateClient();
        var first = await client.UploadCsvAsync("a,y\n1,2\n", "first");
        var second = await client.UploadCsvAsync("a,y\n1,2\n", "second");
        var firstId = first.GetProperty("id").GetString()!;

        var list = await client.GetJsonAsync("/api/v1/datasets");
        Assert.Equal(["second", "first"], list.EnumerateArray().Select(d => d.GetProperty("name").GetString()));
        var one = await client.GetJsonAsync($"/api/v1/datasets/{firstId}");
        Assert.Equal("first", one.GetProperty("name").GetString());

        var deleted = await client.DeleteAsync(new Uri($"/api/v1/datasets/{firstId}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await ServiceApi.ExpectProblemAsync(await client.GetAsync(new Uri($"/api/v1/datasets/{firstId}", UriKind.Relative)), HttpStatusCode.NotFound);
        await ServiceApi.ExpectProblemAsync(await client.DeleteAsync(new Uri($"/api/v1/datasets/{firstId}", UriKind.Relative)), HttpStatusCode.NotFound);
        list = await client.GetJsonAsync("/api/v1/datasets");
        Assert.Equal([second.GetProperty("id").GetString()], list.EnumerateArray().Select(d => d.GetProperty("id").GetString()));
    }

    [Theory]
    [InlineData("/api/v1/datasets/ds_doesnotexist")]
    [InlineData("/api/v1/datasets/..%2F..%2Fjobs.db")]
    [InlineData("/api/v1/datasets/ds_..%2F..%2Fxx")]
    [InlineData("/api/v1/datasets/%2Fetc%2Fpasswd")]
    public async Task Unknown_or_malformed_ids_are_404_problems(string path)
    {
        var client = _factory.CreateClient();

        await ServiceApi.ExpectProblemAsync(await client.GetAsync(new Uri(path, UriKind.Relative)), HttpStatusCode.NotFound);
        await ServiceApi.ExpectProblemAsync(await client.DeleteAsync(new Uri(path, UriKind.Relative)), HttpStatusCode.NotFound);
    }

    public static TheoryData<string, string> BadCsv => new()
    {
        { "", "body" },
        { "a,b,y\n", "body" },
        { "a,b,y\n1,2,3\n4,5\n", "row 2" },
        { "a,b,y\n1,2,3\n4,5,6,7\n", "row 2" },
        { "a,a,y\n1,2,3\n", "column 2" },
        { "a,,y\n1,2,3\n", "column 2" },
        { "a,b,c,d,e,f\n1,2,3,4,5,6\n", "columns" },
        { "a,y\n" + string.Concat(Enumerable.Repeat("1,2\n", 51)), "body" },
        { "a,y\n1,NaN\n2,3\n", "y" },
        { "a,y\n1,Infinity\n2,3\n", "y" },
        { "a,y\n1,1e999\n2,3\n", "y" },
        { "a,y\n1,x\"y\"\n", "row 1" },
        { "a,y\n1,\"open\n", "row 1" },
    };

    [Theory]
    [MemberData(nameof(BadCsv))]
    public async Task Bad_csv_is_a_400_naming_the_row_or_column_and_stores_nothing(string csv, string field)
    {
        var client = _factory.CreateClient();

        var response = await client.PostAsync(new Uri("/api/v1/datasets", UriKind.Relative), ServiceApi.Csv(csv));

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Empty((await client.GetJsonAsync("/api/v1/datasets")).EnumerateArray());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_factory.StorageRoot, "datasets")));
    }

    public static TheoryData<string, string> BadJson => new()
    {
        { "", "body" },
        { "{\"columns\": [\"a\"], \"rows\": [[1]", "body" },
        { "[1, 2]", "body" },
        { "{\"rows\": [[1]]}", "columns" },
        { "{\"columns\": [\"a\"]}", "rows" },
        { "{\"columns\": [\"a\"], \"rows\": []}", "rows" },
        { "{\"columns\": [\"a\", \"y\"], \"rows\": [[1, 2], [3]]}", "rows[1]" },
        { "{\"columns\": [\"a\", \"a\"], \"rows\": [[1, 2]]}", "columns[1]" },
        { "{\"columns\": [\"a\", \" \"], \"rows\": [[1, 2]]}", "columns[1]" },
        { "{\"columns\": [\"a\", 5], \"rows\": [[1, 2]]}", "columns[1]" },
        { "{\"columns\": [\"a\", \"y\"], \"rows\": [[1, true]]}", "rows[0][1]" },
        { "{\"columns\": [\"a\", \"y\"], \"rows\": [[1, NaN]]}", "body" },
        { "{\"columns\": [\"a\", \"y\"], \"rows\": [[1, \"NaN\"], [2, 3]]}", "y" },
        { "{\"columns\": [\"a\"], \"rows\": [[1]], \"colour\": 1}", "colour" },
        { "{\"name\": 5, \"columns\": [\"a\"], \"rows\": [[1]]}", "name" },
    };

    [Theory]
    [MemberData(nameof(BadJson))]
    public async Task Bad_json_is_a_400_naming_the_field_and_stores_nothing(string json, string field)
    {
        var client = _factory.CreateClient();

        var response = await client.PostAsync(new Uri("/api/v1/datasets", UriKind.Relative), ServiceApi.JsonBody(json));

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Empty((await client.GetJsonAsync("/api/v1/datasets")).EnumerateArray());
    }

    [Fact]
    public async Task Non_utf8_csv_is_a_400()
    {
        var client = _factory.CreateClient();
        byte[] latin1 = [.. Encoding.ASCII.GetBytes("name,y\ncaf"), 0xE9, .. Encoding.ASCII.GetBytes(",1\n")];

        var response = await client.PostAsync(new Uri("/api/v1/datasets", UriKind.Relative), ServiceApi.Bytes(latin1, "text/csv"));

        var problem = await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "body");
        Assert.Contains("UTF-8", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_byte_order_mark_is_not_part_of_the_first_column_name()
    {
        var client = _factory.CreateClient();
        byte[] withBom = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("a,y\n1,2\n")];

        var response = await client.PostAsync(new Uri("/api/v1/datasets", UriKind.Relative), ServiceApi.Bytes(withBom, "text/csv"));

        var info = await ServiceApi.ExpectAsync(response, HttpStatusCode.Created);
        Assert.Equal("a", info.GetProperty("columns")[0].GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData(null)]
    public async Task Other_content_types_are_415(string? contentType)
    {
        var client = _factory.CreateClient();
        using var content = new ByteArrayContent("a,y\n1,2\n"u8.ToArray());
        if (contentType is not null)
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        var response = await client.PostAsync(new Uri("/api/v1/datasets", UriKind.Relative), content);

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.Empty((await client.GetJsonAsync("/api/v1/datasets")).EnumerateArray());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413()
    {
        var client = _factory.CreateClient();
        var csv = "a,y\n" + string.Concat(Enumerable.Repeat("1234567890,1234567890\n", 300));

        var response = await client.PostAsync(new Uri("/api/v1/datasets", UriKind.Relative), ServiceApi.Csv(csv));

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Empty((await client.GetJsonAsync("/api/v1/datasets")).EnumerateArray());
    }

    [Fact]
    public async Task A_half_written_dataset_folder_is_never_listed()
    {
        var client = _factory.CreateClient();
        Directory.CreateDirectory(Path.Combine(_factory.StorageRoot, "datasets", ".tmp-ds_AAAAAAAAAAAA"));
        Directory.CreateDirectory(Path.Combine(_factory.StorageRoot, "datasets", "ds_BBBBBBBBBBBB"));

        var list = await client.GetJsonAsync("/api/v1/datasets");

        Assert.Equal(JsonValueKind.Array, list.ValueKind);
        Assert.Empty(list.EnumerateArray());
    }
}
