using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using ModelService.Api.Datasets;
using ModelService.Api.Inference.Grpc;
using ModelService.Api.Models;
using ModelService.Api.Tests.Datasets;
using ModelService.Api.Tests.Inference;
using ModelService.Model.Data;
using ModelService.Model.Inference;

namespace ModelService.Api.Tests.Predictions;

/// <summary>Tensor models answer through /api/v1/predictions and /v2 (JSON and binary): a number per sample, or an
/// [H, W] grid per sample for a per-position model, which takes any H and W; every face gives the predictor's own bits.</summary>
public sealed class TensorPredictionTests(TensorPredictionTests.Models models) : IClassFixture<TensorPredictionTests.Models>
{
    private const int MaxRows = 50;

    private HttpClient Client => models.Factory.CreateClient();

    /// <summary>A per-position model trained on [8, 8, 3] samples (y = 3 x0 - 2 x1) and a flatten-dense one on [4, 4, 2].</summary>
    public sealed class Models : IAsyncLifetime, IDisposable
    {
        public ModelServiceFactory Factory { get; } = new(new Dictionary<string, string?>
        {
            ["Predictions:MaxRows"] = MaxRows.ToString(CultureInfo.InvariantCulture),
        });

        public string PerPosition { get; private set; } = "";

        public string FlattenDense { get; private set; } = "";

        public async Task InitializeAsync()
        {
            var client = Factory.CreateClient();
            var store = Factory.Services.GetRequiredService<IDatasetStore>();
            var grid = TensorSamples.PerPosition(count: 150, height: 8, width: 8, channels: 3, seed: 1);
            var samples = TensorSamples.PerSample(count: 120, height: 4, width: 4, channels: 2, seed: 2);
            var gridSet = store.SaveTensor("grid", grid, TensorSummary.Of(grid)).Id;
            var sampleSet = store.SaveTensor("samples", samples, TensorSummary.Of(samples)).Id;
            PerPosition = (await client.TrainAsync(new { datasetId = gridSet, epochs = 8, learningRate = 0.01, activate = false }))
                .GetProperty("modelId").GetString()!;
            FlattenDense = (await client.TrainAsync(new { datasetId = sampleSet, epochs = 3, activate = false }))
                .GetProperty("modelId").GetString()!;
        }

        public Predictor Predictor(string id) => Factory.Services.GetRequiredService<ModelRegistry>().GetPredictor(id)!;

        public Task DisposeAsync() => Task.CompletedTask;

        public void Dispose() => Factory.Dispose();
    }

    private double[] Direct(string modelId, TensorData data)
    {
        var model = models.Predictor(modelId);
        var outputs = new double[data.Count * (model.PerPosition ? data.Positions : 1)];
        model.PredictTensor(data.X, data.Count, data.Height, data.Width, outputs);
        return outputs;
    }

    /// <summary>x as JSON nested [N, H, W, C].</summary>
    private static string Nested(TensorData data)
    {
        var json = new StringBuilder("[");
        for (var n = 0; n < data.Count; n++)
        {
            json.Append(n > 0 ? ",[" : "[");
            for (var h = 0; h < data.Height; h++)
            {
                json.Append(h > 0 ? ",[" : "[");
                for (var w = 0; w < data.Width; w++)
                {
                    var at = ((((n * data.Height) + h) * data.Width) + w) * data.Channels;
                    json.Append(w > 0 ? ",[" : "[").AppendJoin(",", data.X.Skip(at).Take(data.Channels)
                        .Select(v => float.IsNaN(v) ? "null" : v.ToString("R", CultureInfo.InvariantCulture))).Append(']');
                }
                json.Append(']');
            }
            json.Append(']');
        }
        return json.Append(']').ToString();
    }

    private async Task<JsonElement> PredictV1Async(string modelId, TensorData data) =>
        await ServiceApi.ExpectAsync(await Client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative),
            ServiceApi.JsonBody($$"""{"modelId": "{{modelId}}", "instances": {{Nested(data)}}}""")), HttpStatusCode.OK);

    private static Uri V2(string modelId, string what = "infer") => new($"/v2/models/modelservice/versions/{modelId}/{what}", UriKind.Relative);

    [Fact]
    public async Task A_per_position_model_trained_on_8x8_answers_a_16x16_grid_per_sample_through_v1_as_its_predictor_does()
    {
        var data = TensorSamples.PerPosition(count: 2, height: 16, width: 16, channels: 3, seed: 9);

        var answer = await PredictV1Async(models.PerPosition, data);

        var grids = answer.GetProperty("predictions");
        Assert.Equal(models.PerPosition, answer.GetProperty("modelId").GetString());
        Assert.Equal(2, grids.GetArrayLength());
        Assert.All(grids.EnumerateArray(), grid => Assert.Equal((16, 16), (grid.GetArrayLength(), grid[15].GetArrayLength())));
        var flat = grids.EnumerateArray().SelectMany(g => g.EnumerateArray()).SelectMany(r => r.EnumerateArray()).Select(v => v.GetDouble()).ToArray();
        Assert.Equal(Direct(models.PerPosition, data), flat);
        var rmse = Math.Sqrt(flat.Zip(data.Y, (p, y) => (p - y) * (p - y)).Average());
        Assert.True(rmse < 0.15, $"RMSE {rmse} against y = 3 x0 - 2 x1");
    }

    [Fact]
    public async Task Samples_scored_in_parallel_slices_get_the_bits_the_predictor_gives_them_in_one_call()
    {
        // 128 x 128 positions make each sample a slice of its own (ParallelScoring.SliceRows positions per slice).
        var data = TensorSamples.PerPosition(count: 3, height: 128, width: 128, channels: 3, seed: 21);
        var raw = new byte[data.X.Length * 4];
        Buffer.BlockCopy(data.X, 0, raw, 0, raw.Length);
        var header = $$$"""{"inputs": [{"name": "input0", "shape": [3, 128, 128, 3], "datatype": "FP32", "parameters": {"binary_data_size": {{{raw.Length}}}}}], "parameters": {"binary_data_output": true}}""";

        var v1 = await PredictV1Async(models.PerPosition, data);
        var v2 = await Client.PostAsync(V2(models.PerPosition), OipWire.Binary(header, raw, null));

        var expected = Direct(models.PerPosition, data);
        Assert.Equal(expected, v1.GetProperty("predictions").EnumerateArray().SelectMany(g => g.EnumerateArray())
            .SelectMany(r => r.EnumerateArray()).Select(v => v.GetDouble()));
        var body = await v2.Content.ReadAsByteArrayAsync();
        var jsonLength = int.Parse(v2.Headers.GetValues(OipWire.HeaderLength).Single(), CultureInfo.InvariantCulture);
        Assert.Equal(expected, Enumerable.Range(0, expected.Length).Select(i => BinaryPrimitives.ReadDoubleLittleEndian(body.AsSpan(jsonLength + (i * 8)))));
    }

    [Fact]
    public async Task A_flatten_dense_model_answers_one_number_per_sample_and_a_null_input_is_imputed_as_the_predictor_does()
    {
        var data = TensorSamples.PerSample(count: 3, height: 4, width: 4, channels: 2, seed: 5);
        data.X[7] = float.NaN;

        var answer = await PredictV1Async(models.FlattenDense, data);

        Assert.Equal(Direct(models.FlattenDense, data), answer.GetProperty("predictions").EnumerateArray().Select(p => p.GetDouble()));
    }

    public static TheoryData<string, string, HttpStatusCode> BadV1 => new()
    {
        { "flat", """{"modelId": "{m}", "records": [{"channel_0": 0.5}]}""", HttpStatusCode.BadRequest },
        { "flat", """{"modelId": "{m}", "instances": [[[[0.5, 0.5], [0.5, 0.5]]]]}""", HttpStatusCode.BadRequest },
        { "flat", """{"modelId": "{m}", "instances": [[[0.5, 0.5]]]}""", HttpStatusCode.BadRequest },
        { "grid", """{"modelId": "{m}", "instances": [[[[0.5, 0.5]]]]}""", HttpStatusCode.BadRequest },
        { "grid", """{"modelId": "{m}", "instances": [[[[0.5, 0.5, 0.5]]], [[[0.5, 0.5, 0.5]], [[0.5, 0.5, 0.5]]]]}""", HttpStatusCode.BadRequest },
        { "grid", """{"modelId": "{m}", "instances": [[[[0.5, "0.5", 0.5]]]]}""", HttpStatusCode.BadRequest },
        { "grid", """{"modelId": "{m}", "instances": [""" + string.Join(",", Enumerable.Repeat("[[[0.5, 0.5, 0.5]]]", MaxRows + 1)) + "]}",
            HttpStatusCode.RequestEntityTooLarge },
    };

    [Theory]
    [MemberData(nameof(BadV1))]
    public async Task Bad_v1_input_for_a_tensor_model_is_a_problem_naming_the_field(string model, string body, HttpStatusCode status)
    {
        var id = model == "grid" ? models.PerPosition : models.FlattenDense;

        var response = await Client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), ServiceApi.JsonBody(body.Replace("{m}", id, StringComparison.Ordinal)));

        var problem = await ServiceApi.ExpectProblemAsync(response, status);
        var field = problem.TryGetProperty("errors", out var errors) ? errors.EnumerateObject().Single().Name : "";
        Assert.Matches(status == HttpStatusCode.BadRequest ? "^(records|instances)" : "", field);
        if (body.Contains("records", StringComparison.Ordinal))
        {
            Assert.Contains("send 'instances'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("FP32")]
    [InlineData("FP64")]
    public async Task V2_json_infer_takes_n_h_w_c_and_answers_n_h_w_for_a_per_position_model(string datatype)
    {
        var data = TensorSamples.PerPosition(count: 2, height: 5, width: 7, channels: 3, seed: 11);
        var values = string.Join(",", data.X.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

        var response = await Client.PostAsync(V2(models.PerPosition), ServiceApi.JsonBody(
            $$"""{"inputs": [{"name": "input0", "shape": [2, 5, 7, 3], "datatype": "{{datatype}}", "data": [{{values}}]}]}"""));

        var output = (await ServiceApi.ExpectAsync(response, HttpStatusCode.OK)).GetProperty("outputs")[0];
        Assert.Equal([2, 5, 7], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(Direct(models.PerPosition, data), output.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()));
    }

    [Theory]
    [InlineData("FP32")]
    [InlineData("FP64")]
    public async Task V2_binary_infer_of_a_flatten_dense_model_answers_n_by_1_fp64_after_the_json_header(string datatype)
    {
        var data = TensorSamples.PerSample(count: 4, height: 4, width: 4, channels: 2, seed: 12);
        var size = datatype == "FP32" ? 4 : 8;
        var raw = new byte[data.X.Length * size];
        for (var i = 0; i < data.X.Length; i++)
        {
            if (size == 4)
            {
                BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), data.X[i]);
            }
            else
            {
                BinaryPrimitives.WriteDoubleLittleEndian(raw.AsSpan(i * 8), data.X[i]);
            }
        }
        var header = $$$"""{"inputs": [{"name": "input0", "shape": [4, 4, 4, 2], "datatype": "{{{datatype}}}", "parameters": {"binary_data_size": {{{raw.Length}}}}}], "parameters": {"binary_data_output": true}}""";

        var response = await Client.PostAsync(V2(models.FlattenDense), OipWire.Binary(header, raw, "application/octet-stream"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync();
        var jsonLength = int.Parse(response.Headers.GetValues(OipWire.HeaderLength).Single(), CultureInfo.InvariantCulture);
        var output = JsonDocument.Parse(body.AsMemory(0, jsonLength)).RootElement.GetProperty("outputs")[0];
        Assert.Equal([4, 1], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        var predictions = Enumerable.Range(0, 4).Select(i => BinaryPrimitives.ReadDoubleLittleEndian(body.AsSpan(jsonLength + (i * 8)))).ToArray();
        Assert.Equal(Direct(models.FlattenDense, data), predictions);
    }

    [Fact]
    public async Task V2_binary_infer_of_a_per_position_model_takes_any_height_and_width()
    {
        var data = TensorSamples.PerPosition(count: 1, height: 3, width: 11, channels: 3, seed: 13);
        var raw = new byte[data.X.Length * 4];
        Buffer.BlockCopy(data.X, 0, raw, 0, raw.Length);
        var header = $$$"""{"inputs": [{"name": "input0", "shape": [1, 3, 11, 3], "datatype": "FP32", "parameters": {"binary_data_size": {{{raw.Length}}}}}]}""";

        var response = await Client.PostAsync(V2(models.PerPosition), OipWire.Binary(header, raw, null));

        var output = (await ServiceApi.ExpectAsync(response, HttpStatusCode.OK)).GetProperty("outputs")[0];
        Assert.Equal([1, 3, 11], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(Direct(models.PerPosition, data), output.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()));
    }

    [Theory]
    [InlineData("grid", """{"name": "input0", "shape": [1, 2, 2, 2], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6, 7, 8]}""", "[N, H, W, 3]")]
    [InlineData("flat", """{"name": "input0", "shape": [1, 2, 2, 2], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6, 7, 8]}""", "[N, 4, 4, 2]")]
    [InlineData("flat", """{"name": "input0", "shape": [1, 32], "datatype": "FP32", "data": [1]}""", "[N, 4, 4, 2]")]
    [InlineData("flat", """{"name": "input0", "shape": [1, 4, 4, 2], "datatype": "BYTES", "data": ["a"]}""", "FP32 or FP64")]
    [InlineData("grid", """{"name": "input0", "shape": [1, 1, 1, 3], "datatype": "FP32", "data": [1, 2]}""", "needs 3 values")]
    [InlineData("grid", """{"name": "input0", "shape": [1, 100000, 100000, 3], "datatype": "FP32", "data": [1]}""", "can hold")]
    public async Task Bad_v2_input_for_a_tensor_model_is_a_400_naming_the_expected_shape(string model, string input, string mentioned)
    {
        var id = model == "grid" ? models.PerPosition : models.FlattenDense;

        var response = await Client.PostAsync(V2(id), ServiceApi.JsonBody($$"""{"inputs": [{{input}}]}"""));

        await BinaryTensorDataTests.ExpectErrorAsync(response, HttpStatusCode.BadRequest, mentioned);
    }

    [Fact]
    public async Task Grpc_infer_takes_raw_and_typed_tensors_and_answers_the_shapes_and_bits_rest_does()
    {
        var grpc = GrpcInferenceTests.Connect(models.Factory);
        var grid = TensorSamples.PerPosition(count: 2, height: 3, width: 4, channels: 3, seed: 14);
        var samples = TensorSamples.PerSample(count: 2, height: 4, width: 4, channels: 2, seed: 15);
        var raw = new ModelInferRequest
        {
            ModelName = "modelservice", ModelVersion = models.PerPosition,
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input0", Datatype = "FP32", Shape = { 2, 3, 4, 3 } } },
        };
        raw.RawInputContents.Add(ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(grid.X.AsSpan())));
        var typed = new ModelInferRequest
        {
            ModelName = "modelservice", ModelVersion = models.FlattenDense,
            Inputs =
            {
                new ModelInferRequest.Types.InferInputTensor
                {
                    Name = "input0", Datatype = "FP64", Shape = { 2, 4, 4, 2 },
                    Contents = new InferTensorContents { Fp64Contents = { samples.X.Select(v => (double)v) } },
                },
            },
        };

        var gridAnswer = await grpc.ModelInferAsync(raw);
        var sampleAnswer = await grpc.ModelInferAsync(typed);
        var metadata = await grpc.ModelMetadataAsync(new ModelMetadataRequest { Name = "modelservice", Version = models.PerPosition });

        Assert.Equal([2L, 3L, 4L], gridAnswer.Outputs[0].Shape);
        var bytes = gridAnswer.RawOutputContents[0].ToByteArray();
        Assert.Equal(Direct(models.PerPosition, grid), Enumerable.Range(0, 24).Select(i => BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i * 8))));
        Assert.Equal([2L, 1L], sampleAnswer.Outputs[0].Shape);
        Assert.Equal(Direct(models.FlattenDense, samples), sampleAnswer.Outputs[0].Contents.Fp64Contents);
        Assert.Equal([-1L, -1L, -1L, 3L], metadata.Inputs[0].Shape);
    }

    [Fact]
    public async Task V2_metadata_and_config_give_tensor_shapes_with_minus_one_where_any_size_goes()
    {
        var grid = await Client.GetJsonAsync($"/v2/models/modelservice/versions/{models.PerPosition}");
        var flat = await Client.GetJsonAsync($"/v2/models/modelservice/versions/{models.FlattenDense}");
        var config = await Client.GetJsonAsync($"/v2/models/modelservice/versions/{models.PerPosition}/config");

        static int[] Shape(JsonElement tensors) => [.. tensors[0].GetProperty("shape").EnumerateArray().Select(d => d.GetInt32())];
        Assert.Equal([-1, -1, -1, 3], Shape(grid.GetProperty("inputs")));
        Assert.Equal([-1, -1, -1], Shape(grid.GetProperty("outputs")));
        Assert.Equal("FP32", grid.GetProperty("inputs")[0].GetProperty("datatype").GetString());
        Assert.Equal([-1, 4, 4, 2], Shape(flat.GetProperty("inputs")));
        Assert.Equal([-1, 1], Shape(flat.GetProperty("outputs")));
        Assert.Equal([-1, -1, 3], config.GetProperty("input")[0].GetProperty("dims").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal([-1, -1], config.GetProperty("output")[0].GetProperty("dims").EnumerateArray().Select(d => d.GetInt32()));
    }
}
