using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelService.Api.Models;
using ModelService.Api.Predictions;
using ModelService.Model.Data;
using ModelService.Model.Inference;

namespace ModelService.Api.Tests.Predictions;

/// <summary>Large prediction requests are parsed, scored and formatted in slices on several cores. Here every body is
/// sliced (Predictions:ParallelMinBytes = 1) and compared with the same body read sequentially: the answers, and the
/// problems for bad bodies, must be the same. Long because it holds the body corpus the comparison runs over.</summary>
public sealed class SlicedPredictionTests(SlicedPredictionTests.Hosts hosts) : IClassFixture<SlicedPredictionTests.Hosts>
{
    private readonly ModelServiceFactory _sliced = hosts.Sliced;
    private readonly ModelServiceFactory _sequential = hosts.Sequential;

    /// <summary>One service that slices every body and one that never does, shared by every case: no case changes the
    /// active model or anything else the others read.</summary>
    public sealed class Hosts : IDisposable
    {
        public ModelServiceFactory Sliced { get; } = new(new Dictionary<string, string?> { ["Predictions:ParallelMinBytes"] = "1" });

        public ModelServiceFactory Sequential { get; } = new(new Dictionary<string, string?> { ["Predictions:ParallelMinBytes"] = $"{int.MaxValue}" });

        public void Dispose()
        {
            Sliced.Dispose();
            Sequential.Dispose();
        }
    }

    public static TheoryData<string> Bodies()
    {
        var data = new TheoryData<string>();
        foreach (var row in PredictionTests.BadBodies)
        {
            data.Add((string)row[0]);
        }
        var valid = Records(40);
        data.Add(valid);
        data.Add(Pretty(valid));
        data.Add(Instances(40));
        data.Add("{\"modelId\": null, " + valid[1..]);
        data.Add(valid[..^1] + ", \"modelId\": null}");
        data.Add(valid[..^1] + ", \"modelId\": \"mdl_AAAAAAAAAAAA\"}");
        data.Add(Swap(valid, "\"rooms\": 0.5", "\"rooms\": null"));
        data.Add(Swap(valid, "{\"square_footage\": 0.35, \"rooms\": 0.5}", "{\"rooms\": 0.5, \"square_footage\": 0.35}"));
        // Malformed past the first slice: a trailing comma, a missing comma, a cut inside a string, an unclosed array.
        data.Add(valid[..^2] + ",]}");
        data.Add(Swap(valid, "}, {\"square_footage\": 0.3,", "} {\"square_footage\": 0.3,"));
        data.Add(Swap(valid, "\"rooms\": 0.5}, {\"square_footage\": 0.3", "\"rooms\": 0.5}, {\"sq\\\"},{\\\"ua]re\": 0.3"));
        data.Add(Swap(valid, "\"rooms\": 0.5}, {\"square_footage\": 0.3", "\"rooms\": 0.5}, {\"square_footage\": \"0.3},{\""));
        data.Add(valid[..^1]);
        data.Add(valid[..^2]);
        data.Add(Swap(valid, "{\"square_footage\": 0.3,", "null, {\"square_footage\": 0.3,"));
        data.Add(Swap(valid, "{\"square_footage\": 0.3,", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], {\"square_footage\": 0.3,"));
        data.Add(Swap(Instances(40), "[0.3, 0.5]", "[0.3, 0.5, 0.1]"));
        data.Add(Swap(Instances(40), "[0.3, 0.5]", "[0.3, \"0.5\"]"));
        // Unusual or bad rows in the middle of a sliced array: each is read as a sequential read reads it.
        string[] records = ["""{"square_footage": 01}""", """{"square_footage": 1.}""", """{"square_footage": .5}""",
            """{"square_footage": -}""", """{"square_footage": +1}""", """{"square_footage": 1e}""", """{"square_footage": 1e400}""",
            """{"square_footage": NaN}""", """{"square_footage": 0.5x}""", """{"square_footage": true}""",
            """{"square_footage": [0.5]}""", """{"square_footage": nul}""", """{"square_footage": 0.5,}""", """{"square_footage" 0.5}""",
            """{"squ\u0061re_footage": 0.5}""", """{"square_footage": 0.5, "square_footage": 0.5}""", """{"sqft": 0.5}""",
            """{"square_footage": 0.5} {"rooms": 0.5}""", """{"square_footage": 0.5},""", """{"square_footage": 0.5""", """[0.5, 0.5]""",
            "   ", """{"rooms":-1.5e-3,"square_footage":0}, {"square_footage": -0, "rooms": 2E+2}, {}, {"rooms": null}""",
            " \n{ \"square_footage\" :\t12345678901234567890 , \"rooms\" : 1e-300 }\r\n, {\"square_footage\": 0.1}  "];
        foreach (var record in records)
        {
            data.Add(Swap(valid, "{\"square_footage\": 0.3, \"rooms\": 0.5}", record));
        }
        string[] instances = ["[0.5]", "[0.5, 0.5, 0.5]", "[0.5, 0.5,]", "[0.5 0.5]", "[0.5, 01]", "[0.5, 0.5] [0.5, 0.5]", "[0.5, 0.5],",
            "{\"rooms\": 0.5}", "[[0.5], 0.5]", "[-1.5e-3,0] , [ -0 , 2E+2 ],[null, null]\n"];
        foreach (var instance in instances)
        {
            data.Add(Swap(Instances(40), "[0.3, 0.5]", instance));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task A_body_gets_the_same_answer_sliced_as_read_in_one_piece(string body)
    {
        var sliced = await PostAsync(_sliced, body);
        var sequential = await PostAsync(_sequential, body);

        Assert.Equal(sequential.Status, sliced.Status);
        Assert.Equal(sequential.Content, sliced.Content);
    }

    [Theory]
    [InlineData("records", false, 40)]
    [InlineData("records", true, 40)]
    [InlineData("instances", false, 40)]
    [InlineData("records", false, 100_000)]
    [InlineData("instances", true, 100_000)]
    public void Valid_bodies_are_scored_in_slices_without_falling_back(string form, bool pretty, int rows)
    {
        var model = ActiveModel();
        var text = form == "records" ? Records(rows) : Instances(rows);
        var body = Encoding.UTF8.GetBytes(pretty ? Pretty(text) : text);

        var envelope = PredictionRequestReader.ReadEnvelope(body, slices: 8);
        var result = SlicedScoring.TryScore(body, envelope, model, maxRows: 1_000_000, Scoring());

        Assert.NotNull(envelope.Split);
        Assert.Equal(Math.Min(7, rows - 1), envelope.Split.Cuts.Cuts.Length);
        Assert.NotNull(result);
        Assert.Equal(rows, result.RowCount);
    }

    [Theory]
    [InlineData("records", """{"square_footage": 0.5, "rooms": 0.25}""")]
    [InlineData("records", """{"rooms":-1.5e-3,"square_footage":0}, {"square_footage": -0, "rooms": 2E+2}, {}, {"rooms": null}""")]
    [InlineData("records", " \n{ \"square_footage\" :\t12345678901234567890 , \"rooms\" : 1e-300 }\r\n, {\"squ\\u0061re_footage\": 0.1}  ")]
    [InlineData("instances", "[0.5, 0.25]")]
    [InlineData("instances", "[-1.5e-3,0] , [ -0 , 2E+2 ],[null, null]\n")]
    public void Rows_read_in_slices_hold_the_values_of_the_rows_read_whole(string form, string rows)
    {
        var model = ActiveModel();
        var body = Encoding.UTF8.GetBytes($"{{\"{form}\": [{rows}]}}");
        var envelope = PredictionRequestReader.ReadEnvelope(body, slices: 3);
        var split = Assert.IsType<PredictionRequestReader.RowsSplit>(envelope.Split);
        var bounds = new[] { envelope.RowsStart }.Concat(split.Cuts.Cuts).Append(split.Cuts.Close).ToArray();

        var sliced = bounds.Zip(bounds.Skip(1), (from, to) =>
        {
            using var slice = PredictionRequestReader.TryReadSlice(body.AsSpan()[(from + 1)..to], split, form, model, maxRows: 100);
            Assert.NotNull(slice);
            return slice.Values.ToArray();
        }).SelectMany(values => values).ToArray();
        using var whole = PredictionRequestReader.ReadRows(body, PredictionRequestReader.ReadEnvelope(body), model, maxRows: 100);

        Assert.Equal(whole.Values.ToArray(), sliced);
    }

    [Fact]
    public void Numbers_are_read_correctly_rounded()
    {
        var model = ActiveModel();
        var random = new Random(5);
        string[] edges = ["0", "-0", "1", "9007199254740993", "9007199254740992.5", "2.2250738585072011e-308", "4.9e-324", "2e-324",
            "1.7976931348623157e308", "1.7976931348623158e308", "0.1", "0.30000000000000004", "123456789012345678901234567890",
            "1.00000000000000011102230246251565404236316680908203125", "7.0e-10", "1e23", "8.41e21", "5e-1", "-1E+2"];
        var numbers = edges.Concat(Enumerable.Range(0, 20_000).Select(i =>
        {
            var value = BitConverter.Int64BitsToDouble(random.NextInt64()) is var bits && double.IsFinite(bits) ? bits : random.NextDouble();
            return (i % 4) switch
            {
                0 => value.ToString("R", CultureInfo.InvariantCulture),
                1 => value.ToString("G17", CultureInfo.InvariantCulture),
                2 => (random.NextDouble() * 1e6).ToString("F9", CultureInfo.InvariantCulture),
                _ => value.ToString("E25", CultureInfo.InvariantCulture),
            };
        })).ToArray();
        var body = Encoding.UTF8.GetBytes($"{{\"instances\": [{string.Join(", ", numbers.Select(n => $"[{n}, null]"))}]}}");

        using var rows = PredictionRequestReader.ReadRows(body, PredictionRequestReader.ReadEnvelope(body), model, maxRows: 100_000);

        // .NET's own parser rounds correctly (IEEE 754); the reader must give the same bits for every number.
        var expected = numbers.SelectMany(n => new[] { FeatureValue.FromNumber(double.Parse(n, CultureInfo.InvariantCulture)), FeatureValue.Missing });
        Assert.Equal(expected.ToArray(), rows.Values.ToArray());
    }

    [Fact]
    public async Task A_hundred_thousand_records_sliced_match_the_sequential_answer_byte_for_byte()
    {
        var body = Records(100_000);

        var sliced = await PostAsync(_sliced, body);
        var sequential = await PostAsync(_sequential, body);

        Assert.Equal(HttpStatusCode.OK, sliced.Status);
        Assert.Equal(sequential.Content, sliced.Content);
        Assert.Equal(100_000, JsonDocument.Parse(sliced.Content).RootElement.GetProperty("predictions").GetArrayLength());
    }

    [Fact]
    public async Task A_bad_value_deep_in_a_sliced_request_is_reported_with_its_row_index()
    {
        var body = Swap(Records(100_000), "{\"square_footage\": 0.25, \"rooms\": 0.75}", "{\"square_footage\": 0.25, \"rooms\": \"many\"}");

        var response = await _sliced.CreateClient().PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), ServiceApi.JsonBody(body));

        var problem = await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "records[99999].rooms");
        Assert.Contains("\"many\"", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("""[{"a": 1}, {"b": [1, [2, 3]]},{"c": {"d": ","}},  {"e": "x"} ,{"f": null}, {}, {"g": 2.5e3}]""")]
    [InlineData("[ [1, 2] , [3, 4],[5, 6],\n        [7, 8], [\"a\", \"b\"], [], [[9]] ]")]
    public void The_splitter_cuts_between_elements_of_rows_without_misleading_strings(string array)
    {
        var json = Encoding.UTF8.GetBytes("{\"rows\": " + array + ", \"modelId\": null}");
        var open = Array.IndexOf(json, (byte)'[');
        using var document = JsonDocument.Parse(json);
        var elements = document.RootElement.GetProperty("rows").EnumerateArray().Select(e => e.GetRawText()).ToArray();

        for (var slices = 1; slices <= 8; slices++)
        {
            var split = JsonArraySplitter.TrySplit(json, open, slices);

            Assert.NotNull(split);
            Assert.Equal(open + Encoding.UTF8.GetByteCount(array) - 1, split.Value.Close);
            Assert.True(split.Value.Cuts.Length < slices);
            var bounds = new[] { open }.Concat(split.Value.Cuts).Append(split.Value.Close).ToArray();
            var pieces = bounds.Zip(bounds.Skip(1), (from, to) => Encoding.UTF8.GetString(json, from + 1, to - from - 1))
                .SelectMany(piece => JsonDocument.Parse("[" + piece + "]").RootElement.EnumerateArray().Select(e => e.GetRawText()).ToArray())
                .ToArray();
            Assert.Equal(elements, pieces);
        }
    }

    [Theory]
    [InlineData("""{"rows": [1, 2""", false)]
    [InlineData("""{"rows": [ ]}""", false)]
    [InlineData("""{"rows": [1, 2, 3, 4, 5, 6]}""", true)]
    public void The_splitter_proposes_no_cuts_where_it_cannot(string text, bool closes)
    {
        var json = Encoding.UTF8.GetBytes(text);

        var split = JsonArraySplitter.TrySplit(json, Array.IndexOf(json, (byte)'['), 4);

        Assert.Equal(closes, split is not null);
        Assert.Empty(split?.Cuts ?? []);
    }

    [Fact]
    public async Task Categories_that_look_like_row_boundaries_mislead_no_answer()
    {
        // Labels holding "}, {" and "], [" make the proposed cuts fall inside strings: the sliced read must notice and the
        // answer must still be the sequential one.
        string[] labels = ["a}, {\"b", "c], [d", "e\\", "plain"];
        var csv = "size,kind,price\n" + string.Concat(Enumerable.Range(0, 80).Select(i =>
            string.Create(CultureInfo.InvariantCulture, $"{i % 10},\"{labels[i % 4].Replace("\"", "\"\"", StringComparison.Ordinal)}\",{(i % 10 * 3) + (i % 4)}\n")));
        // Each service trains its own copy (same data and seed, so the same weights) without activating it, so that the
        // other cases keep scoring with the bundled model.
        var models = new Dictionary<ModelServiceFactory, string>();
        foreach (var factory in new[] { _sequential, _sliced })
        {
            var client = factory.CreateClient(ModelServiceFactory.ApiKey);
            var dataset = await client.UploadCsvAsync(csv);
            models[factory] = (await client.TrainAsync(new { datasetId = dataset.GetProperty("id").GetString(), target = "price", epochs = 2, seed = 1, activate = false }))
                .GetProperty("modelId").GetString()!;
        }
        var records = Enumerable.Range(0, 4000).Select(i => new Dictionary<string, object> { ["size"] = i % 10, ["kind"] = labels[i % 4] }).ToArray();
        var instances = Enumerable.Range(0, 4000).Select(i => new object[] { i % 7, labels[(i + 1) % 4] }).ToArray();
        foreach (Func<string, string> body in new Func<string, string>[] { id => JsonSerializer.Serialize(new { records, modelId = id }), id => JsonSerializer.Serialize(new { instances, modelId = id }) })
        {
            var sliced = await PostAsync(_sliced, body(models[_sliced]));
            var sequential = await PostAsync(_sequential, body(models[_sequential]));

            Assert.Equal(HttpStatusCode.OK, sliced.Status);
            Assert.Equal(sequential.Content, sliced.Content);
        }

        // A label long enough to hold the middle of the body: the one proposed cut falls inside it, the slices cannot
        // end there, and the request is read sequentially.
        var label = string.Concat(Enumerable.Repeat("a, {", 5000));
        string Misleading(string modelId) => JsonSerializer.Serialize(new
        {
            records = new[] { new { size = 1, kind = "plain" }, new { size = 2, kind = label }, new { size = 3, kind = "e\\" } },
            modelId,
        });
        var bytes = Encoding.UTF8.GetBytes(Misleading(models[_sliced]));
        var envelope = PredictionRequestReader.ReadEnvelope(bytes, slices: 2);
        var labelStart = Misleading(models[_sliced]).IndexOf(label, StringComparison.Ordinal);
        Assert.InRange(Assert.Single(envelope.Split!.Cuts.Cuts), labelStart, labelStart + label.Length);
        var trained = _sliced.Services.GetRequiredService<ModelRegistry>().GetPredictor(models[_sliced])!;
        Assert.Null(SlicedScoring.TryScore(bytes, envelope, trained, maxRows: 1000, Scoring()));
        var answer = await PostAsync(_sliced, Misleading(models[_sliced]));
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal((await PostAsync(_sequential, Misleading(models[_sequential]))).Content, answer.Content);
    }

    // The sliced service's active model (the bundled default); creating a client starts the host, which installs it.
    private Predictor ActiveModel()
    {
        _ = _sliced.CreateClient();
        return _sliced.Services.GetRequiredService<ModelRegistry>().Active!;
    }

    private ParallelScoring Scoring() => _sliced.Services.GetRequiredService<ParallelScoring>();

    private static string Records(int count)
    {
        var body = new StringBuilder("{\"records\": [");
        for (var i = 0; i < count; i++)
        {
            body.Append(i == 0 ? "" : ", ").Append(i == count - 1 ? "{\"square_footage\": 0.25, \"rooms\": 0.75}"
                : i == count / 2 ? "{\"square_footage\": 0.3, \"rooms\": 0.5}"
                : i == (count / 2) - 1 ? "{\"square_footage\": 0.35, \"rooms\": 0.5}"
                : string.Create(CultureInfo.InvariantCulture, $"{{\"square_footage\": {(i % 997) / 997.0:R}, \"rooms\": {(i % 101) / 101.0:R}}}"));
        }
        return body.Append("]}").ToString();
    }

    private static string Instances(int count)
    {
        var body = new StringBuilder("{\"instances\": [");
        for (var i = 0; i < count; i++)
        {
            body.Append(i == 0 ? "" : ", ").Append(i == count / 2 ? "[0.3, 0.5]"
                : string.Create(CultureInfo.InvariantCulture, $"[{(i % 997) / 997.0:R}, {(i % 101) / 101.0:R}]"));
        }
        return body.Append("]}").ToString();
    }

    // string.Replace that insists the text occurs, so that a case cannot silently turn into the valid body.
    private static string Swap(string text, string old, string replacement)
    {
        Assert.Contains(old, text, StringComparison.Ordinal);
        return text.Replace(old, replacement, StringComparison.Ordinal);
    }

    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    private static string Pretty(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement, s_indented);

    private static async Task<(HttpStatusCode Status, string Content)> PostAsync(ModelServiceFactory factory, string body)
    {
        var response = await factory.CreateClient().PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), ServiceApi.JsonBody(body));
        var content = await response.Content.ReadAsStringAsync();
        if (response.StatusCode == HttpStatusCode.OK)
        {
            // Each factory installs the bundled model under an id of its own.
            var modelId = JsonDocument.Parse(content).RootElement.GetProperty("modelId").GetString()!;
            return (response.StatusCode, content.Replace(modelId, "<default model>", StringComparison.Ordinal));
        }
        // A problem carries a per-request trace id; compare the rest.
        var problem = JsonDocument.Parse(content).RootElement;
        return (response.StatusCode, string.Join("\n", problem.EnumerateObject().Where(p => p.Name != "traceId").Select(p => $"{p.Name}={p.Value.GetRawText()}")));
    }
}
