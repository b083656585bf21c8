using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelService.Api.Models;
using ModelService.Api.Predictions;

namespace ModelService.Api.Tests;

/// <summary>Large prediction requests are parsed, scored and formatted in slices on several cores. Here every body is
/// sliced (Predictions:ParallelMinBytes = 1) and compared with the same body read sequentially: the answers, and the
/// problems for bad bodies, must be the same.</summary>
public sealed class SlicedPredictionTests : IDisposable
{
    private readonly ModelServiceFactory _sliced = new(new Dictionary<string, string?> { ["Predictions:ParallelMinBytes"] = "1" });
    private readonly ModelServiceFactory _sequential = new(new Dictionary<string, string?> { ["Predictions:ParallelMinBytes"] = $"{int.MaxValue}" });

    public void Dispose()
    {
        _sliced.Dispose();
        _sequential.Dispose();
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
        _ = _sliced.CreateClient(); // starts the host, which installs the bundled model
        var model = _sliced.Services.GetRequiredService<ModelRegistry>().Active!;
        var text = form == "records" ? Records(rows) : Instances(rows);
        var body = Encoding.UTF8.GetBytes(pretty ? Pretty(text) : text);

        var envelope = PredictionRequestReader.ReadEnvelope(body, slices: 8);
        var result = SlicedScoring.TryScore(body, envelope, model, maxRows: 1_000_000);

        Assert.NotNull(envelope.Split);
        Assert.Equal(Math.Min(7, rows - 1), envelope.Split.Cuts.Cuts.Length);
        Assert.NotNull(result);
        Assert.Equal(rows, result.RowCount);
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

        var response = await _sliced.CreateClient().PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), Api.JsonBody(body));

        var problem = await Api.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "records[99999].rooms");
        Assert.Contains("\"many\"", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("""[{"a": "x,y]}{\"z"}, {"b": [1, [2, 3]]}, 7, "s\\", {"c": {"d": ","}}]""")]
    [InlineData("""[ 1 , 2 ,3,4,   5 ]""")]
    [InlineData("""["\\\"", "]", "[", "}", "{", ","]""")]
    public void The_splitter_cuts_only_at_top_level_commas(string array)
    {
        var json = Encoding.UTF8.GetBytes("{\"rows\": " + array + "}");
        var open = Array.IndexOf(json, (byte)'[');
        using var document = JsonDocument.Parse(json);
        var elements = document.RootElement.GetProperty("rows").EnumerateArray().Select(e => e.GetRawText()).ToArray();

        for (var slices = 1; slices <= 8; slices++)
        {
            var split = JsonArraySplitter.TrySplit(json, open, slices);

            Assert.NotNull(split);
            Assert.Equal(json.Length - 2, split.Value.Close);
            Assert.True(split.Value.Cuts.Length < slices);
            var bounds = new[] { open }.Concat(split.Value.Cuts).Append(split.Value.Close).ToArray();
            var pieces = bounds.Zip(bounds.Skip(1), (from, to) => Encoding.UTF8.GetString(json, from + 1, to - from - 1))
                .SelectMany(piece => JsonDocument.Parse("[" + piece + "]").RootElement.EnumerateArray().Select(e => e.GetRawText()).ToArray())
                .ToArray();
            Assert.Equal(elements, pieces);
        }
    }

    [Theory]
    [InlineData("""{"rows": [1, 2""")]
    [InlineData("""{"rows": [1, "2]}""")]
    [InlineData("""{"rows": [1, 2}}""")]
    [InlineData("""{"rows": [1, "\"]}""")]
    public void The_splitter_gives_up_on_an_array_that_does_not_close(string text)
    {
        var json = Encoding.UTF8.GetBytes(text);

        Assert.Null(JsonArraySplitter.TrySplit(json, Array.IndexOf(json, (byte)'['), 4));
    }

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
        var response = await factory.CreateClient().PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), Api.JsonBody(body));
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
