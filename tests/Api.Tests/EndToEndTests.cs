using System.Net;
using System.Net.Http.Json;

namespace ModelService.Api.Tests;

public sealed class EndToEndTests : IDisposable
{
    private readonly ModelServiceFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task The_seed_example_trains_activates_and_predicts_fresh_houses_within_6000()
    {
        var client = _factory.CreateClient();
        var dataset = await client.UploadCsvAsync(TestData.HousesCsv(1000, seed: 42), "seed-houses");
        var submitted = await client.SubmitAsync(new
        {
            datasetId = dataset.GetProperty("id").GetString(),
            target = "price",
            features = new[] { "square_footage", "rooms" },
            hiddenChannels = new[] { 16, 8 },
            epochs = 50,
            batchSize = 16,
            seed = 42,
        });
        var jobId = submitted.GetProperty("id").GetString()!;

        var epochsSeen = new List<int>();
        var job = await client.WaitForJobAsync(jobId, j =>
        {
            epochsSeen.Add(j.GetProperty("progress").GetProperty("epoch").GetInt32());
            return j.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled";
        });

        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(epochsSeen.Order(), epochsSeen);
        Assert.Equal(50, job.GetProperty("history").GetArrayLength());
        var losses = job.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("trainLoss").GetDouble()).ToArray();
        Assert.True(losses[^1] < losses[0] / 10, $"Loss went from {losses[0]} to {losses[^1]}");
        var modelId = job.GetProperty("modelId").GetString()!;

        var activated = await client.PostAsync(new Uri($"/api/v1/models/{modelId}/activate", UriKind.Relative), null);
        await ServiceApi.ExpectAsync(activated, HttpStatusCode.OK);

        var fresh = TestData.Houses(500, seed: 2024);
        var predictions = await client.PredictAsync(new { records = fresh.Select(h => new { square_footage = h.SquareFootage, rooms = h.Rooms }) });
        var rmse = Math.Sqrt(fresh.Zip(predictions, (h, p) => (h.Price - p) * (h.Price - p)).Average());
        Assert.True(rmse < 6000, $"RMSE on fresh rows {rmse}");
        var model = await client.GetJsonAsync($"/api/v1/models/{modelId}");
        Assert.True(model.GetProperty("active").GetBoolean());
        var validation = model.GetProperty("metrics").GetProperty("validation");
        Assert.InRange(validation.GetProperty("rmse").GetDouble(), 1, 10_000);
        Assert.Equal(800, model.GetProperty("training").GetProperty("trainRows").GetInt32());
        Assert.Equal(200, model.GetProperty("training").GetProperty("validationRows").GetInt32());
    }

    [Fact]
    public async Task California_housing_with_missing_values_and_categories_trains_and_predicts_from_raw_records()
    {
        var client = _factory.CreateClient();
        var dataset = await client.UploadCsvAsync(TestData.CaliforniaCsv(), "california");
        var columns = dataset.GetProperty("columns").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);
        Assert.Equal(3000, dataset.GetProperty("rowCount").GetInt32());
        Assert.Equal(27, columns["total_bedrooms"].GetProperty("missing").GetInt32());
        Assert.Equal("categorical", columns["ocean_proximity"].GetProperty("type").GetString());
        Assert.Equal(["<1H OCEAN", "INLAND", "NEAR BAY", "NEAR OCEAN"],
            columns["ocean_proximity"].GetProperty("categories").EnumerateArray().Select(c => c.GetString()));

        var job = await client.TrainAsync(new
        {
            datasetId = dataset.GetProperty("id").GetString(),
            target = "median_house_value",
            hiddenChannels = new[] { 32, 16 },
            epochs = 10,
            batchSize = 64,
            learningRate = 0.01,
        });

        var model = await client.GetJsonAsync($"/api/v1/models/{job.GetProperty("modelId").GetString()}");
        Assert.Equal([1, 1, 12], model.GetProperty("architecture").GetProperty("inputShape").EnumerateArray().Select(d => d.GetInt32()));
        var features = model.GetProperty("features").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!);
        Assert.Equal(4, features["ocean_proximity"].GetProperty("categories").GetArrayLength());
        Assert.True(features["total_bedrooms"].GetProperty("imputeValue").GetDouble() > 0);
        Assert.True(model.GetProperty("metrics").GetProperty("validation").GetProperty("r2").GetDouble() > 0.4);

        var response = await client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), ServiceApi.JsonBody($$"""
            {"modelId": "{{model.GetProperty("id").GetString()}}", "records": [
              {"longitude": -122.23, "latitude": 37.88, "housing_median_age": 41, "total_rooms": 880, "total_bedrooms": null,
               "population": 322, "households": 126, "median_income": 8.3252, "ocean_proximity": "NEAR BAY"},
              {"longitude": -118.3, "latitude": 34.1, "housing_median_age": 20, "total_rooms": 2000,
               "population": 900, "households": 300, "median_income": 3.1, "ocean_proximity": "ISLAND"},
              {"longitude": -121.0, "latitude": 38.5, "housing_median_age": null, "total_rooms": 1500, "total_bedrooms": 300,
               "population": 800, "households": 280, "median_income": 2.5, "ocean_proximity": null}
            ]}
            """));

        var predictions = (await ServiceApi.ExpectAsync(response, HttpStatusCode.OK)).GetProperty("predictions").EnumerateArray()
            .Select(p => p.GetDouble()).ToArray();
        Assert.Equal(3, predictions.Length);
        Assert.All(predictions, p => Assert.InRange(p, -100_000, 1_000_000));
        Assert.True(predictions[0] > predictions[2], "A rich Bay Area block should be priced above a poor inland one");

        var typo = await client.PostAsJsonAsync("/api/v1/predictions", new
        {
            modelId = model.GetProperty("id").GetString(),
            records = new[] { new { median_income = "8.3" } },
        });
        await ServiceApi.ExpectProblemAsync(typo, HttpStatusCode.BadRequest, "records[0].median_income");
    }
}
