using System.Net;
using System.Text.Json;

namespace ModelService.Api.Tests.Inference;

/// <summary>A model with a categorical feature takes a BYTES tensor of strings (JSON or binary) and rejects numeric tensors.</summary>
public sealed class CategoricalInferenceTests : IDisposable
{
    private readonly ModelServiceFactory _factory = new();

    [Fact]
    public async Task A_categorical_model_takes_bytes_and_rejects_floats()
    {
        var client = _factory.CreateClient();
        var csv = "size,colour,price\n" + string.Concat(Enumerable.Range(0, 60).Select(i =>
            $"{i % 10},{(i % 3 == 0 ? "red" : "blue")},{(i % 10) * 2 + (i % 3 == 0 ? 5 : 0)}\n"));
        var dataset = await client.UploadCsvAsync(csv);
        var job = await client.TrainAsync(new { datasetId = dataset.GetProperty("id").GetString(), target = "price", epochs = 2 });
        var modelId = job.GetProperty("modelId").GetString();
        var expected = await client.PredictAsync(new { records = new object[] { new { size = 3, colour = "red" } } });

        var metadata = await client.GetJsonAsync("/v2/models/modelservice");
        Assert.Equal("BYTES", metadata.GetProperty("inputs")[0].GetProperty("datatype").GetString());

        var floats = await client.PostAsync(new Uri("/v2/models/modelservice/infer", UriKind.Relative),
            ServiceApi.JsonBody("""{"inputs":[{"name":"input0","shape":[1,2],"datatype":"FP32","data":[3,1]}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, floats.StatusCode);
        Assert.Contains("colour", (await floats.Content.ReadAsStringAsync()), StringComparison.Ordinal);

        var bytes = await client.PostAsync(new Uri($"/v2/models/modelservice/versions/{modelId}/infer", UriKind.Relative),
            ServiceApi.JsonBody("""{"inputs":[{"name":"input0","shape":[1,2],"datatype":"BYTES","data":["3","red"]}]}"""));
        var answer = await ServiceApi.ExpectAsync(bytes, HttpStatusCode.OK);
        var value = answer.GetProperty("outputs")[0].GetProperty("data")[0].GetDouble();
        Assert.Equal(expected[0], value, 1e-9);
        Assert.Equal(JsonValueKind.Number, answer.GetProperty("outputs")[0].GetProperty("data")[0].ValueKind);

        // The same row as binary BYTES: each element a 4-byte little-endian length and its UTF-8 bytes.
        var raw = OipWire.BytesTensor("3", "red");
        var binary = await client.PostAsync(new Uri($"/v2/models/modelservice/versions/{modelId}/infer", UriKind.Relative),
            OipWire.Binary($$$"""{"inputs":[{"name":"input0","shape":[1,2],"datatype":"BYTES","parameters":{"binary_data_size":{{{raw.Length}}}}}]}""",
                raw, "application/octet-stream"));
        var binaryAnswer = await ServiceApi.ExpectAsync(binary, HttpStatusCode.OK);
        Assert.Equal(expected[0], binaryAnswer.GetProperty("outputs")[0].GetProperty("data")[0].GetDouble(), 1e-9);
        var truncated = await client.PostAsync(new Uri("/v2/models/modelservice/infer", UriKind.Relative),
            OipWire.Binary($$$"""{"inputs":[{"name":"input0","shape":[1,2],"datatype":"BYTES","parameters":{"binary_data_size":{{{raw.Length - 1}}}}}]}""",
                raw[..^1], null));
        Assert.Equal(HttpStatusCode.BadRequest, truncated.StatusCode);
        Assert.Contains("claims 3 bytes", await truncated.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    public void Dispose() => _factory.Dispose();
}
