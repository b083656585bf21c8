using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace ModelService.Api.Tests.Predictions;

/// <summary>Predictions against the bundled default model (price = 500000 * square_footage + 100000 * rooms).</summary>
public sealed class PredictionTests : IClassFixture<ModelServiceFactory>
{
    private readonly ModelServiceFactory _factory;

    public PredictionTests(ModelServiceFactory factory) => _factory = factory;

    [Fact]
    public async Task A_fresh_service_prices_the_seed_example()
    {
        var client = _factory.CreateClient();

        var response = await client.PostAsJsonAsync("/api/v1/predictions", new { records = new[] { new { square_footage = 0.5, rooms = 0.5 } } });

        var body = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        var active = await client.GetJsonAsync("/api/v1/models/active");
        Assert.Equal(active.GetProperty("id").GetString(), body.GetProperty("modelId").GetString());
        var prediction = Assert.Single(body.GetProperty("predictions").EnumerateArray()).GetDouble();
        Assert.InRange(prediction, 285_000, 315_000);
    }

    [Fact]
    public async Task Records_instances_and_an_explicit_model_id_agree()
    {
        var client = _factory.CreateClient();
        var modelId = (await client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString();

        var fromRecords = await client.PredictAsync(new { records = new object[] { new { rooms = 0.2, square_footage = 0.9 }, new { square_footage = 0.1, rooms = 0.7 } } });
        var fromInstances = await client.PredictAsync(new { instances = new[] { new[] { 0.9, 0.2 }, new[] { 0.1, 0.7 } } });
        var named = await client.PredictAsync(new { instances = new[] { new[] { 0.9, 0.2 }, new[] { 0.1, 0.7 } }, modelId });

        Assert.Equal(fromRecords, fromInstances);
        Assert.Equal(fromRecords, named);
        Assert.InRange(fromRecords[0], 470_000 - 20_000, 470_000 + 20_000);
        Assert.InRange(fromRecords[1], 120_000 - 20_000, 120_000 + 20_000);
    }

    [Fact]
    public async Task Missing_and_null_values_are_imputed()
    {
        var predictions = await _factory.CreateClient().PostAsync(new Uri("/api/v1/predictions", UriKind.Relative),
            ServiceApi.JsonBody("""{"records": [{"square_footage": null, "rooms": 0.5}, {"square_footage": 0.5}, {}], "modelId": null}"""));

        var body = await ServiceApi.ExpectAsync(predictions, HttpStatusCode.OK);
        Assert.Equal(3, body.GetProperty("predictions").GetArrayLength());
        Assert.All(body.GetProperty("predictions").EnumerateArray(), p => Assert.True(double.IsFinite(p.GetDouble())));
    }

    [Fact]
    public async Task A_large_batch_gets_one_prediction_per_row_in_order()
    {
        var rows = TestData.Houses(100_000, seed: 11);
        var json = new StringBuilder("{\"instances\":[");
        foreach (var (x0, x1, _) in rows)
        {
            json.Append(System.Globalization.CultureInfo.InvariantCulture, $"[{x0:R},{x1:R}],");
        }
        json.Length--;
        json.Append("]}");

        var response = await _factory.CreateClient().PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), ServiceApi.JsonBody(json.ToString()));

        var predictions = (await ServiceApi.ExpectAsync(response, HttpStatusCode.OK)).GetProperty("predictions").EnumerateArray().Select(p => p.GetDouble()).ToArray();
        Assert.Equal(rows.Length, predictions.Length);
        var rmse = Math.Sqrt(rows.Zip(predictions, (row, p) => (row.Price - p) * (row.Price - p)).Average());
        Assert.True(rmse < 10_000, $"RMSE {rmse}");
    }

    [Fact]
    public async Task A_batch_large_enough_to_be_split_across_cores_scores_each_row_as_a_small_request_does()
    {
        var rows = TestData.Houses(70_000, seed: 5);
        var client = _factory.CreateClient();

        var all = await client.PredictAsync(new { instances = rows.Select(r => new[] { r.SquareFootage, r.Rooms }).ToArray() });

        // Rows around every place a split can fall, scored in one small request (never split).
        int[] picked = [0, 1, 16_383, 16_384, 17_499, 17_500, 23_333, 23_334, 34_999, 35_000, 52_500, 69_999];
        var few = await client.PredictAsync(new { instances = picked.Select(i => new[] { rows[i].SquareFootage, rows[i].Rooms }).ToArray() });
        Assert.Equal(rows.Length, all.Length);
        Assert.Equal(few, picked.Select(i => all[i]).ToArray());
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { """{"records": [{"square_footage": "0.5", "rooms": 0.5}]}""", "records[0].square_footage" },
        { """{"records": [{"square_footage": 0.5, "rooms": 0.5}, {"sqft": 0.5}]}""", "records[1].sqft" },
        { """{"records": [{"square_footage": 0.5, "square_footage": 0.4}]}""", "records[0].square_footage" },
        { """{"records": [{"square_footage": true}]}""", "records[0].square_footage" },
        { """{"records": [{"square_footage": {"value": 1}}]}""", "records[0].square_footage" },
        { """{"records": [[0.5, 0.5]]}""", "records[0]" },
        { """{"records": []}""", "records" },
        { """{"records": {}}""", "records" },
        { """{"instances": [[0.5, 0.5], [0.5]]}""", "instances[1]" },
        { """{"instances": [[0.5, 0.5, 0.5]]}""", "instances[0]" },
        { """{"instances": [[0.5, "big"]]}""", "instances[0][1]" },
        { """{"instances": [{"rooms": 0.5}]}""", "instances[0]" },
        { """{"instances": [[0.5, 0.5]], "records": [{"rooms": 0.5}]}""", "records" },
        { """{"modelId": "mdl_AAAAAAAAAAAA"}""", "body" },
        { """{"rows": [[0.5, 0.5]]}""", "rows" },
        { """{"instances": [[0.5, 0.5]], "modelId": "../../etc"}""", "modelId" },
        { """{"instances": [[0.5, 0.5]], "modelId": 5}""", "modelId" },
        { """[[0.5, 0.5]]""", "body" },
        { """{"instances": [[0.5, 0.5]]""", "body" },
        { "", "body" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_bodies_are_400_naming_the_field(string json, string field)
    {
        var response = await _factory.CreateClient().PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), ServiceApi.JsonBody(json));

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task An_unknown_model_id_is_404()
    {
        var response = await _factory.CreateClient().PostAsJsonAsync("/api/v1/predictions",
            new { instances = new[] { new[] { 0.5, 0.5 } }, modelId = "mdl_AAAAAAAAAAAA" });

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.NotFound, "modelId");
    }

    [Fact]
    public async Task Only_json_is_accepted()
    {
        var response = await _factory.CreateClient().PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), ServiceApi.Csv("square_footage,rooms\n0.5,0.5\n"));

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Row_and_size_limits_are_413()
    {
        using var factory = new ModelServiceFactory(new Dictionary<string, string?>
        {
            ["Predictions:MaxRows"] = "3",
            ["Limits:MaxRequestBodyBytes"] = "2048",
        });
        var client = factory.CreateClient();
        await client.PredictAsync(new { instances = new[] { new[] { 0.1, 0.1 }, new[] { 0.2, 0.2 }, new[] { 0.3, 0.3 } } });

        var tooManyRows = await client.PostAsJsonAsync("/api/v1/predictions",
            new { instances = new[] { new[] { 0.1, 0.1 }, new[] { 0.2, 0.2 }, new[] { 0.3, 0.3 }, new[] { 0.4, 0.4 } } });
        var tooLarge = await client.PostAsJsonAsync("/api/v1/predictions",
            new { instances = Enumerable.Repeat(new[] { 0.123456789, 0.123456789 }, 100).ToArray() });

        await ServiceApi.ExpectProblemAsync(tooManyRows, HttpStatusCode.RequestEntityTooLarge);
        await ServiceApi.ExpectProblemAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Past_the_rate_limit_predictions_are_429_with_retry_after()
    {
        using var factory = ModelServiceFactory.WithRateLimit("Predictions", permitLimit: 2);
        var client = factory.CreateClient();
        object body = new { instances = new[] { new[] { 0.5, 0.5 } } };
        await client.PredictAsync(body);
        await client.PredictAsync(body);

        var response = await client.PostAsJsonAsync("/api/v1/predictions", body);

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.TooManyRequests);
        Assert.NotNull(response.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/api/v1/models", UriKind.Relative))).StatusCode);
    }
}
