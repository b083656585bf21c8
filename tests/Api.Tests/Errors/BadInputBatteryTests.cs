using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ModelService.Api.Tests.Datasets;

namespace ModelService.Api.Tests.Errors;

/// <summary>One bad request: where it goes, what it carries and the problem it must get back. Paths and bodies may
/// hold {ds} (a stored dataset), {model} (a stored inactive model), {active} (the active model), {job} (a finished
/// job) and {tensor} (an inactive per-position model of [2, 2, 1] samples). <see cref="Field"/> is the key the problem's
/// errors must name, when one applies. The same list drives scripts/bad-input-battery.sh against a running service (see <see cref="BadInputCaseFile"/>). The file is long because
/// it is the case list: one line per bad request, in one place on purpose.</summary>
public sealed record BadInput(string Name, string Method, string Path, int Status, string? Field = null,
    string? ContentType = null, byte[]? Body = null, string? Key = ModelServiceFactory.ApiKey)
{
    /// <summary>Words the problem's detail must contain.</summary>
    public string? Says { get; init; }

    /// <summary>Under <c>/v2</c> errors take the Open Inference Protocol's <c>{"error": "..."}</c> shape rather than a
    /// problem; there <see cref="Field"/> is the text the message must contain.</summary>
    public bool IsOpenInference => Path.StartsWith("/v2", StringComparison.Ordinal);
}

/// <summary>Every class of bad input, run against one service holding a dataset, a trained model and a finished job:
/// each is a 4xx problem naming what is wrong, and none changes what is stored.</summary>
public sealed class BadInputBatteryTests(BadInputBatteryTests.Service service) : IClassFixture<BadInputBatteryTests.Service>
{
    private const string Houses = "/api/v1/datasets?name=houses";
    private const string Jobs = "/api/v1/training-jobs";
    private const string Predictions = "/api/v1/predictions";
    private const string Models = "/api/v1/models";
    private const string V2Infer = "/v2/models/modelservice/infer";
    private const string V2Input = """{"name": "input0", "shape": [1, 2], "datatype": "FP64", "data": [0.5, 0.5]}""";
    private const string Train = """{"datasetId": "{ds}", "target": "price", """;
    private static readonly string Deep = new string('[', 1000) + new string(']', 1000);

    public static IReadOnlyList<BadInput> Cases { get; } =
    [
        Csv("csv: empty body", "", "body"),
        Csv("csv: header only", "a,b,y\n", "body"),
        Csv("csv: ragged row (short)", "a,b,y\n1,2,3\n4,5\n", "row 2"),
        Csv("csv: ragged row (long)", "a,b,y\n1,2,3\n4,5,6,7\n", "row 2"),
        Csv("csv: duplicate column names", "a,a,y\n1,2,3\n", "column 2"),
        Csv("csv: empty column name", "a,,y\n1,2,3\n", "column 2"),
        new("csv: not UTF-8 (Latin-1 byte)", "POST", Houses, 400, "body", "text/csv", [.. "name,y\ncaf"u8, 0xE9, .. ",1\n"u8]) { Says = "UTF-8" },
        new("csv: UTF-16 body", "POST", Houses, 400, "body", "text/csv", Encoding.Unicode.GetBytes("\uFEFFa,y\n1,2\n")),
        Csv("csv: NaN cell", "a,y\n1,NaN\n2,3\n", "y"),
        Csv("csv: Infinity cell", "a,y\n1,-Infinity\n2,3\n", "y"),
        Csv("csv: overflowing number 1e400", "a,y\n1,1e400\n2,3\n", "y"),
        Csv("csv: quote inside an unquoted field", "a,y\n1,x\"y\"\n", "row 1"),
        Csv("csv: unterminated quote", "a,y\n1,\"open\n", "row 1"),
        Csv("csv: more columns than Limits:MaxDatasetColumns", "a,b,c,d,e,f\n1,2,3,4,5,6\n", "columns"),
        Csv("csv: more rows than Limits:MaxDatasetRows", "a,y\n" + string.Concat(Enumerable.Repeat("1,2\n", 51)), "body"),
        new("csv: name too long", "POST", "/api/v1/datasets?name=" + new string('n', 201), 400, "name", "text/csv", "a,y\n1,2\n"u8.ToArray()),
        new("csv: name with a control character", "POST", "/api/v1/datasets?name=a%01b", 400, "name", "text/csv", "a,y\n1,2\n"u8.ToArray()),
        new("csv: body over Limits:MaxRequestBodyBytes", "POST", Houses, 413, null, "text/csv",
            Encoding.UTF8.GetBytes("a,y\n" + string.Concat(Enumerable.Repeat("1234567890,1\n", 1500)))),

        Dataset("json dataset: empty body", "", "body"),
        Dataset("json dataset: malformed (truncated)", """{"columns": ["a"], "rows": [[1]""", "body"),
        Dataset("json dataset: not an object", "[1, 2]", "body"),
        Dataset("json dataset: 1000 levels deep", """{"columns": ["a"], "rows": """ + Deep + "}", "rows[0][0]"),
        Dataset("json dataset: columns missing", """{"rows": [[1]]}""", "columns"),
        Dataset("json dataset: rows missing", """{"columns": ["a"]}""", "rows"),
        Dataset("json dataset: rows empty", """{"columns": ["a"], "rows": []}""", "rows"),
        Dataset("json dataset: ragged row", """{"columns": ["a", "y"], "rows": [[1, 2], [3]]}""", "rows[1]"),
        Dataset("json dataset: duplicate column names", """{"columns": ["a", "a"], "rows": [[1, 2]]}""", "columns[1]"),
        Dataset("json dataset: column name not a string", """{"columns": ["a", 5], "rows": [[1, 2]]}""", "columns[1]"),
        Dataset("json dataset: boolean cell", """{"columns": ["a", "y"], "rows": [[1, true]]}""", "rows[0][1]"),
        Dataset("json dataset: NaN literal", """{"columns": ["a", "y"], "rows": [[1, NaN]]}""", "body"),
        Dataset("json dataset: Infinity literal", """{"columns": ["a", "y"], "rows": [[1, Infinity]]}""", "body"),
        Dataset("json dataset: overflowing number 1e400", """{"columns": ["a", "y"], "rows": [[1, 1e400], [2, 3]]}""", "y"),
        Dataset("json dataset: \"NaN\" string in a numeric column", """{"columns": ["a", "y"], "rows": [[1, "NaN"], [2, 3]]}""", "y"),
        Dataset("json dataset: unknown property", """{"columns": ["a"], "rows": [[1]], "colour": 1}""", "colour"),
        Dataset("json dataset: too many columns", """{"columns": ["a", "b", "c", "d", "e", "f"], "rows": [[1, 2, 3, 4, 5, 6]]}""", "columns"),
        Dataset("json dataset: too many rows", """{"columns": ["a"], "rows": [""" + string.Join(",", Enumerable.Repeat("[1]", 51)) + "]}", "rows"),
        Dataset("json dataset: lone surrogate escape", """{"columns": ["a\ud800", "y"], "rows": [[1, 2]]}""", "body") with { Says = "surrogate" },
        Dataset("json dataset: lone low surrogate in a cell", """{"columns": ["a", "y"], "rows": [["\udc00x", 2]]}""", "body") with { Says = "surrogate" },
        new("json dataset: not UTF-8", "POST", "/api/v1/datasets", 400, "body", "application/json",
            [.. "{\"columns\": [\"caf"u8, 0xE9, .. "\", \"y\"], \"rows\": [[1, 2]]}"u8]) { Says = "UTF-8" },
        Npz("npz dataset: not a zip archive", "not a zip", "body"),
        Npz("npz dataset: object dtype (pickled content)", "object dtype (pickle)", "x") with { Says = "never unpickled" },
        Npz("npz dataset: integer dtype", "integer dtype", "x"),
        Npz("npz dataset: Fortran order", "Fortran order", "x"),
        Npz("npz dataset: Python code in the header", "Python code in the header", "x"),
        Npz("npz dataset: an extra entry", "an extra entry", "body"),
        Npz("npz dataset: y of another sample count", "y of another sample count", "y"),
        Npz("npz dataset: data shorter than the header's shape", "data shorter than the shape", "x"),
        Npz("npz dataset: an infinite value", "an infinite value", "x"),
        new("npz dataset: x over Limits:MaxTensorElements", "POST", "/api/v1/datasets", 413, null, "application/x-npz",
            TensorSamples.Zip(false, ("x.npy", TensorSamples.Npy(TensorSamples.Dict("<f4", 1, 1, 1, 1001), [])), ("y.npy", TensorSamples.Npy(new double[1], 1))))
            { Says = "Limits:MaxTensorElements" },
        new("npz dataset: unknown ?format", "POST", "/api/v1/datasets?format=parquet", 400, "format", "application/octet-stream",
            TensorDatasetTests.BadArchive("no y.npy")),
        Dataset("json tensor dataset: ragged x", """{"x": [[[[1]]], [[[2], [3]]]], "y": [1, 2]}""", "x[1][0]"),
        Dataset("json tensor dataset: string in x", """{"x": [[[[1, "2"]]]], "y": [1]}""", "x[0][0][0][1]"),
        Dataset("json tensor dataset: x not four levels deep", """{"x": [[[1, 2]]], "y": [1]}""", "x"),
        Dataset("json tensor dataset: y disagrees with x", """{"x": [[[[1]]]], "y": [1, 2]}""", "y"),
        Dataset("json tensor dataset: y missing", """{"x": [[[[1]]]]}""", "y"),
        new("content type: dataset as text/plain", "POST", Houses, 415, null, "text/plain", "a,y\n1,2\n"u8.ToArray()),
        new("content type: dataset without one", "POST", Houses, 415, null, null, "a,y\n1,2\n"u8.ToArray()),
        new("content type: npz as application/octet-stream without ?format=npz", "POST", "/api/v1/datasets", 415, null,
            "application/octet-stream", TensorDatasetTests.BadArchive("no y.npy")),

        Training("training: empty body", "", "body"),
        Training("training: malformed JSON", """{"datasetId": "{ds}", "target": """, "target") with { Says = "not valid JSON" },
        Training("training: 1000 levels deep", """{"datasetId": "{ds}", "target": "price", "features": """ + Deep + "}"),
        Training("training: NaN literal", Train + """ "learningRate": NaN}""", "learningRate"),
        Training("training: \"NaN\" learning rate", Train + """ "learningRate": "NaN"}""", "learningRate"),
        Training("training: \"Infinity\" learning rate", Train + """ "learningRate": "Infinity"}""", "learningRate"),
        Training("training: overflowing learning rate 1e400", Train + """ "learningRate": 1e400}""", "learningRate"),
        Training("training: overflowing epochs 1e400", Train + """ "epochs": 1e400}""", "epochs"),
        Training("training: epochs beyond Int32", Train + """ "epochs": 99999999999}""", "epochs"),
        Training("training: epochs 0", Train + """ "epochs": 0}""", "epochs"),
        Training("training: epochs over Training:MaxEpochs", Train + """ "epochs": 101}""", "epochs"),
        Training("training: epochs not an integer", Train + """ "epochs": 2.5}""", "epochs"),
        Training("training: batch size 0", Train + """ "batchSize": 0}""", "batchSize"),
        Training("training: batch size too large", Train + """ "batchSize": 65537}""", "batchSize"),
        Training("training: learning rate 0", Train + """ "learningRate": 0}""", "learningRate"),
        Training("training: learning rate negative", Train + """ "learningRate": -0.1}""", "learningRate"),
        Training("training: learning rate too large", Train + """ "learningRate": 11}""", "learningRate"),
        Training("training: no hidden layers", Train + """ "hiddenChannels": []}""", "hiddenChannels"),
        Training("training: hidden width 0", Train + """ "hiddenChannels": [16, 0]}""", "hiddenChannels[1]"),
        Training("training: hidden width too large", Train + """ "hiddenChannels": [4097]}""", "hiddenChannels[0]"),
        Training("training: too many hidden layers", Train + """ "hiddenChannels": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}""", "hiddenChannels"),
        Training("training: network over Training:MaxParameters", Train + """ "hiddenChannels": [4096, 4096]}""", "hiddenChannels"),
        Training("training: validation fraction negative", Train + """ "validationFraction": -0.1}""", "validationFraction"),
        Training("training: validation fraction too large", Train + """ "validationFraction": 0.95}""", "validationFraction"),
        Training("training: dropout 1", Train + """ "dropout": 1}""", "dropout"),
        Training("training: unknown activation", Train + """ "activation": "swish"}""", "activation"),
        Training("training: unknown optimizer", Train + """ "optimizer": "rmsprop"}""", "optimizer"),
        Training("training: early stopping patience 0", Train + """ "earlyStoppingPatience": 0}""", "earlyStoppingPatience"),
        Training("training: unknown property", Train + """ "epoch": 5}""", "epoch") with { Says = "Unknown property 'epoch'" },
        Training("training: datasetId missing", """{"target": "price"}""", "datasetId"),
        Training("training: datasetId not a string", """{"datasetId": 5, "target": "price"}""", "datasetId") with { Says = "wrong type" },
        Training("training: datasetId with path traversal", """{"datasetId": "../../jobs.db", "target": "price"}""", "datasetId"),
        Training("training: unknown dataset", """{"datasetId": "ds_AAAAAAAAAAAA", "target": "price"}""", "datasetId", 404),
        Training("training: unknown target", """{"datasetId": "{ds}", "target": "cost"}""", "target"),
        Training("training: categorical target", """{"datasetId": "{ds}", "target": "city"}""", "target"),
        Training("training: unknown feature", Train + """ "features": ["rooms", "floors"]}""", "features[1]"),
        Training("training: target as a feature", Train + """ "features": ["rooms", "price"]}""", "features[1]"),
        Training("training: duplicate feature", Train + """ "features": ["rooms", "rooms"]}""", "features[1]"),
        new("training: not UTF-8", "POST", Jobs, 400, "target", "application/json",
            [.. """{"datasetId": "{ds}", "target": "pr"""u8, 0xFF, .. """ice"}"""u8]) { Says = "UTF-8" },
        new("content type: training as text/plain", "POST", Jobs, 415, null, "text/plain", Encoding.UTF8.GetBytes(Train + "\"epochs\": 1}")),

        Predict("predictions: empty body", "", "body"),
        Predict("predictions: malformed JSON", """{"records": [{"rooms": 0.5}""", "body"),
        Predict("predictions: 1000 levels deep", """{"instances": """ + Deep + "}", "body") with { Says = "depth" },
        Predict("predictions: not an object", """[[0.5, 0.5]]""", "body"),
        Predict("predictions: neither records nor instances", "{}", "body"),
        Predict("predictions: both records and instances", """{"records": [{}], "instances": [[0.5, 0.5]]}""", "instances"),
        Predict("predictions: unknown property", """{"rows": [[0.5, 0.5]]}""", "rows"),
        Predict("predictions: empty records", """{"records": []}""", "records"),
        Predict("predictions: empty instances", """{"instances": []}""", "instances"),
        Predict("predictions: instance too narrow", """{"instances": [[0.5, 0.5], [0.5]]}""", "instances[1]"),
        Predict("predictions: instance too wide", """{"instances": [[0.5, 0.5, 0.5]]}""", "instances[0]"),
        Predict("predictions: string in a numeric feature (record)", """{"records": [{"square_footage": "0.5", "rooms": 0.5}]}""", "records[0].square_footage"),
        Predict("predictions: string in a numeric feature (instance)", """{"instances": [[0.5, "0.5"]]}""", "instances[0][1]"),
        Predict("predictions: \"NaN\" in a numeric feature", """{"records": [{"square_footage": "NaN", "rooms": 0.5}]}""", "records[0].square_footage"),
        Predict("predictions: NaN literal", """{"instances": [[NaN, 0.5]]}""", "body"),
        Predict("predictions: overflowing number 1e400", """{"records": [{"square_footage": 1e400, "rooms": 0.5}]}""", "records[0].square_footage"),
        Predict("predictions: unknown feature", """{"records": [{"square_footage": 0.5, "floors": 2}]}""", "records[0].floors"),
        Predict("predictions: feature given twice", """{"records": [{"rooms": 0.5, "rooms": 0.4}]}""", "records[0].rooms"),
        Predict("predictions: record not an object", """{"records": [[0.5, 0.5]]}""", "records[0]"),
        Predict("predictions: boolean value", """{"records": [{"square_footage": 0.5, "rooms": true}]}""", "records[0].rooms"),
        Predict("predictions: more rows than Predictions:MaxRows",
            """{"instances": [""" + string.Join(",", Enumerable.Repeat("[0.5, 0.5]", 11)) + "]}", "instances", 413),
        Predict("predictions: unknown model", """{"modelId": "mdl_AAAAAAAAAAAA", "instances": [[0.5, 0.5]]}""", "modelId", 404),
        Predict("predictions: modelId with path traversal", """{"modelId": "../../jobs.db", "instances": [[0.5, 0.5]]}""", "modelId"),
        Predict("predictions: lone surrogate escape", """{"records": [{"rooms\ud800": 0.5}]}""", "body") with { Says = "surrogate" },
        Predict("predictions: high surrogate before a non-surrogate escape", """{"instances": [[0.5, "\ud800\u0041"]]}""", "body") with { Says = "surrogate" },
        new("predictions: not UTF-8", "POST", Predictions, 400, "body", "application/json",
            [.. "{\"records\": [{\"caf"u8, 0xE9, .. "\": 0.5}]}"u8]) { Says = "UTF-8" },
        new("content type: predictions as text/csv", "POST", Predictions, 415, null, "text/csv", "square_footage,rooms\n0.5,0.5\n"u8.ToArray()),

        Predict("tensor predictions: records for a tensor model", """{"modelId": "{tensor}", "records": [{"channel_0": 0.5}]}""", "records")
            with { Says = "send 'instances'" },
        Predict("tensor predictions: ragged instances", """{"modelId": "{tensor}", "instances": [[[[0.5]]], [[[0.5], [0.5]]]]}""", "instances[1][0]"),
        Predict("tensor predictions: wrong channel count", """{"modelId": "{tensor}", "instances": [[[[0.5, 0.5]]]]}""", "instances"),
        Predict("tensor predictions: string in an instance", """{"modelId": "{tensor}", "instances": [[[["0.5"]]]]}""", "instances[0][0][0][0]"),
        Predict("tensor predictions: instances not nested [N, H, W, C]", """{"modelId": "{tensor}", "instances": [[0.5, 0.5]]}""", "instances"),
        TensorInfer("v2 tensor: shape not [N, H, W, C]", """{"name": "input0", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}""",
            "[N, H, W, 1]"),
        TensorInfer("v2 tensor: BYTES datatype", """{"name": "input0", "shape": [1, 1, 1, 1], "datatype": "BYTES", "data": ["1"]}""", "FP32 or FP64"),
        TensorInfer("v2 tensor: shape beyond what the body holds", """{"name": "input0", "shape": [1, 60000, 60000, 1], "datatype": "FP32", "data": [1]}""",
            "can hold"),

        Import("model import: empty body", [], "body"),
        Import("model import: not gzip", "square_footage,rooms\n0.5,0.5\n"u8.ToArray(), "body"),
        Import("model import: gzip but not tar", Gzip("not a tar archive"u8.ToArray()), "body"),
        Import("model import: no weights", Archive(("manifest.json", "{}"u8.ToArray())), "body"),
        Import("model import: manifest not JSON", Archive(("manifest.json", "not json"u8.ToArray()), ("weights.bin", new byte[16])), "body"),
        Import("model import: unexpected entry", Archive(("manifest.json", "{}"u8.ToArray()), ("../weights.bin", new byte[16])), "body"),
        new("model import: over Limits:MaxRequestBodyBytes", "POST", Models, 413, null, "application/gzip", new byte[20_000]),
        new("content type: model import as application/json", "POST", Models, 415, null, "application/json", "{}"u8.ToArray()),
        new("auth: model import without a key", "POST", Models, 401, null, "application/gzip", Archive(("manifest.json", "{}"u8.ToArray())), Key: null),

        Infer("v2: empty body", "", null),
        Infer("v2: malformed JSON", """{"inputs": [""", "JSON"),
        Infer("v2: not an object", "[1, 2]", null),
        Infer("v2: inputs missing", "{}", "'inputs'"),
        Infer("v2: unknown field", """{"inputs": [""" + V2Input + """], "input": []}""", "'input'"),
        Infer("v2: two inputs", """{"inputs": [""" + V2Input + ", " + V2Input + "]}", "'inputs'"),
        Infer("v2: shape missing", """{"inputs": [{"name": "input0", "datatype": "FP64", "data": [0.5, 0.5]}]}""", "'shape'"),
        Infer("v2: shape does not match the data", """{"inputs": [{"name": "input0", "shape": [2, 2], "datatype": "FP64", "data": [0.5, 0.5]}]}""", "'data'"),
        Infer("v2: string in FP64 data", """{"inputs": [{"name": "input0", "shape": [1, 2], "datatype": "FP64", "data": [0.5, "0.5"]}]}""", "FP64"),
        Infer("v2: unknown output", """{"inputs": [""" + V2Input + """], "outputs": [{"name": "price"}]}""", "output"),
        Infer("v2: more rows than Predictions:MaxRows", """{"inputs": [{"name": "input0", "shape": [11, 2], "datatype": "FP64", "data": ["""
            + string.Join(", ", Enumerable.Repeat("0.5", 22)) + "]}]}", null, 413),
        Infer("v2: lone surrogate escape", """{"id": "a\ud800b", "inputs": [""" + V2Input + "]}", "surrogate"),
        new("v2: not UTF-8", "POST", V2Infer, 400, null, "application/json", [.. "{\"id\": \"caf"u8, 0xE9, .. "\", \"inputs\": []}"u8]),
        new("v2: unknown model", "POST", "/v2/models/other/infer", 404, "'other'", "application/json", Encoding.UTF8.GetBytes("{\"inputs\": [" + V2Input + "]}")),
        new("v2: unknown version", "POST", "/v2/models/modelservice/versions/mdl_AAAAAAAAAAAA/infer", 404, "mdl_AAAAAAAAAAAA", "application/json",
            Encoding.UTF8.GetBytes("{\"inputs\": [" + V2Input + "]}")),
        new("v2: infer as text/csv", "POST", V2Infer, 415, null, "text/csv", "0.5,0.5\n"u8.ToArray()),
        new("v2: infer with GET", "GET", V2Infer, 405, "POST"),

        Route("events: unknown job", "GET", "/api/v1/training-jobs/job_AAAAAAAAAAAA/events", 404),
        Route("events: job ..%2F..%2Fjobs.db", "GET", "/api/v1/training-jobs/..%2F..%2Fjobs.db/events", 404),
        Route("events: malformed job id", "GET", "/api/v1/training-jobs/job_bad%20id/events", 404),
        Route("events: wrong method", "POST", "/api/v1/training-jobs/{job}/events", 405),

        Route("ids: unknown dataset", "GET", "/api/v1/datasets/ds_AAAAAAAAAAAA", 404),
        Route("ids: dataset ..%2F..%2Fetc%2Fpasswd", "GET", "/api/v1/datasets/..%2F..%2Fetc%2Fpasswd", 404),
        Route("ids: dataset %2e%2e", "GET", "/api/v1/datasets/%2e%2e", 404),
        Route("ids: delete dataset ..%2F..%2Fjobs.db", "DELETE", "/api/v1/datasets/..%2F..%2Fjobs.db", 404),
        Route("ids: delete unknown dataset", "DELETE", "/api/v1/datasets/ds_AAAAAAAAAAAA", 404),
        Route("ids: unknown model", "GET", "/api/v1/models/mdl_AAAAAAAAAAAA", 404),
        Route("ids: model ..%2F..%2Fetc%2Fpasswd", "GET", "/api/v1/models/..%2F..%2Fetc%2Fpasswd", 404),
        Route("ids: activate model ..%2Factive-model", "POST", "/api/v1/models/..%2Factive-model/activate", 404),
        Route("ids: activate unknown model", "POST", "/api/v1/models/mdl_AAAAAAAAAAAA/activate", 404),
        Route("ids: delete model %2e%2e%2fdatasets", "DELETE", "/api/v1/models/%2e%2e%2fdatasets", 404),
        Route("ids: delete the active model", "DELETE", "/api/v1/models/{active}", 409),
        Route("ids: unknown job", "GET", "/api/v1/training-jobs/job_AAAAAAAAAAAA", 404),
        Route("ids: job ..%2F..%2Fjobs.db", "GET", "/api/v1/training-jobs/..%2F..%2Fjobs.db", 404),
        Route("ids: cancel unknown job", "POST", "/api/v1/training-jobs/job_AAAAAAAAAAAA/cancel", 404),
        Route("ids: cancel a finished job", "POST", "/api/v1/training-jobs/{job}/cancel", 409),
        Route("query: unknown job status", "GET", "/api/v1/training-jobs?status=sleeping", 400, "status"),
        Route("query: job limit 0", "GET", "/api/v1/training-jobs?limit=0", 400, "limit"),
        Route("query: job limit not a number", "GET", "/api/v1/training-jobs?limit=ten", 400),
        Route("routes: unknown path", "GET", "/nothing-here", 404),
        Route("routes: unknown API path", "GET", "/api/v1/unknown", 404),
        Route("routes: wrong method", "PUT", "/api/v1/datasets", 405),

        new("auth: upload without a key", "POST", Houses, 401, null, "text/csv", "a,y\n1,2\n"u8.ToArray(), Key: null),
        new("auth: upload with a wrong key", "POST", Houses, 401, null, "text/csv", "a,y\n1,2\n"u8.ToArray(), Key: "wrong-key-0123456789abcdef"),
        new("auth: training without a key", "POST", Jobs, 401, null, "application/json", Encoding.UTF8.GetBytes(Train + "\"epochs\": 1}"), Key: null),
        new("auth: delete dataset without a key", "DELETE", "/api/v1/datasets/{ds}", 401, Key: null),
        new("auth: activate model with a wrong key", "POST", "/api/v1/models/{model}/activate", 401, Key: "wrong-key-0123456789abcdef"),
        new("auth: delete model without a key", "DELETE", "/api/v1/models/{model}", 401, Key: null),
        new("auth: cancel job without a key", "POST", "/api/v1/training-jobs/{job}/cancel", 401, Key: null),
    ];

    public static TheoryData<string> CaseNames => new(Cases.Select(c => c.Name));

    [Fact]
    public void The_battery_covers_every_endpoint_with_at_least_sixty_cases()
    {
        Assert.True(Cases.Count >= 60, $"{Cases.Count} cases");
        Assert.Equal(Cases.Count, Cases.Select(c => c.Name).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Is_a_problem_naming_what_is_wrong_and_changes_nothing(string name)
    {
        var bad = Cases.Single(c => c.Name == name);
        using var request = new HttpRequestMessage(new HttpMethod(bad.Method), new Uri(service.Fill(bad.Path), UriKind.Relative));
        if (bad.Body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.Latin1.GetBytes(service.Fill(Encoding.Latin1.GetString(bad.Body))));
            request.Content.Headers.ContentType = bad.ContentType is null ? null : MediaTypeHeaderValue.Parse(bad.ContentType);
        }
        if (bad.Key is not null)
        {
            request.Headers.Add("X-Api-Key", bad.Key);
        }

        var response = await service.Client.SendAsync(request);

        if (bad.IsOpenInference)
        {
            // The Open Inference Protocol's error shape, {"error": "..."}, whose message names the field.
            var error = (await ServiceApi.ExpectAsync(response, (HttpStatusCode)bad.Status)).GetProperty("error").GetString();
            Assert.False(string.IsNullOrWhiteSpace(error));
            Assert.Contains(bad.Field ?? "", error, StringComparison.Ordinal);
        }
        else
        {
            var problem = await ServiceApi.ExpectProblemAsync(response, (HttpStatusCode)bad.Status, bad.Field);
            if (bad.Field is not null)
            {
                Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("errors").GetProperty(bad.Field)[0].GetString()));
            }
            if (bad.Says is not null)
            {
                Assert.Contains(bad.Says, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }
        }
        Assert.Equal(service.Before, await service.SnapshotAsync());
    }

    private static BadInput Csv(string name, string csv, string field) =>
        new(name, "POST", Houses, 400, field, "text/csv", Encoding.UTF8.GetBytes(csv));

    private static BadInput Dataset(string name, string json, string field) =>
        new(name, "POST", "/api/v1/datasets", 400, field, "application/json", Encoding.UTF8.GetBytes(json));

    private static BadInput Npz(string name, string problem, string field) =>
        new(name, "POST", "/api/v1/datasets?name=tiles", 400, field, "application/x-npz", TensorDatasetTests.BadArchive(problem));

    private static BadInput Training(string name, string json, string? field = null, int status = 400) =>
        new(name, "POST", Jobs, status, field, "application/json", Encoding.UTF8.GetBytes(json));

    private static BadInput Predict(string name, string json, string field, int status = 400) =>
        new(name, "POST", Predictions, status, field, "application/json", Encoding.UTF8.GetBytes(json));

    private static BadInput Route(string name, string method, string path, int status, string? field = null) =>
        new(name, method, path, status, field);

    private static BadInput Import(string name, byte[] archive, string field) =>
        new(name, "POST", Models, 400, field, "application/gzip", archive);

    private static BadInput TensorInfer(string name, string input, string says) =>
        new(name, "POST", "/v2/models/modelservice/versions/{tensor}/infer", 400, says, "application/json",
            Encoding.UTF8.GetBytes("{\"inputs\": [" + input + "]}"));

    private static BadInput Infer(string name, string json, string? says, int status = 400) =>
        new(name, "POST", V2Infer, status, says, "application/json", Encoding.UTF8.GetBytes(json));

    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(bytes);
        }
        return output.ToArray();
    }

    /// <summary>A gzip-compressed tar archive of the given files (fixed dates, so the bytes do not change).</summary>
    private static byte[] Archive(params (string Name, byte[] Content)[] files)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var (name, content) in files)
            {
                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(content),
                    ModificationTime = DateTimeOffset.UnixEpoch,
                });
            }
        }
        return Gzip(tar.ToArray());
    }

    /// <summary>A keyed service with small limits, holding a dataset, a model trained on it (not active) and the
    /// finished job that trained it, and a per-position model trained on a small tensor dataset.</summary>
    public sealed class Service : IAsyncLifetime, IDisposable
    {
        /// <summary>The settings the cases assume (limits they exceed, the key they use); an outside run needs them too.</summary>
        public static IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0"] = ModelServiceFactory.ApiKey,
            ["Limits:MaxRequestBodyBytes"] = "16384",
            ["Limits:MaxDatasetRows"] = "50",
            ["Limits:MaxDatasetColumns"] = "5",
            ["Limits:MaxTensorElements"] = "1000",
            ["Predictions:MaxRows"] = "10",
            ["Training:MaxEpochs"] = "100",
            ["Training:MaxParameters"] = "200000",
            ["RateLimiting:Training:PermitLimit"] = "0",
            ["RateLimiting:Predictions:PermitLimit"] = "0",
        };

        /// <summary>Ten [2, 2, 1] samples with a target per position (scripts/bad-input-battery.sh uploads the same).</summary>
        public const string TensorDataset = """
            {"name": "battery-tensor", "x": [[[[0.0],[0.1]],[[0.2],[0.3]]],[[[0.1],[0.2]],[[0.3],[0.4]]],[[[0.2],[0.3]],[[0.4],[0.5]]],[[[0.3],[0.4]],[[0.5],[0.6]]],[[[0.4],[0.5]],[[0.6],[0.7]]],[[[0.5],[0.6]],[[0.7],[0.8]]],[[[0.6],[0.7]],[[0.8],[0.9]]],[[[0.7],[0.8]],[[0.9],[1.0]]],[[[0.8],[0.9]],[[1.0],[1.1]]],[[[0.9],[1.0]],[[1.1],[1.2]]]], "y": [[[0.0,0.2],[0.4,0.6]],[[0.2,0.4],[0.6,0.8]],[[0.4,0.6],[0.8,1.0]],[[0.6,0.8],[1.0,1.2]],[[0.8,1.0],[1.2,1.4]],[[1.0,1.2],[1.4,1.6]],[[1.2,1.4],[1.6,1.8]],[[1.4,1.6],[1.8,2.0]],[[1.6,1.8],[2.0,2.2]],[[1.8,2.0],[2.2,2.4]]]}
            """;

        private readonly ModelServiceFactory _factory = new(new Dictionary<string, string?>(Settings));

        private Dictionary<string, string> _ids = [];

        public HttpClient Client { get; private set; } = null!;

        public string Before { get; private set; } = "";

        public string Fill(string text) =>
            _ids.Aggregate(text, (filled, id) => filled.Replace(id.Key, id.Value, StringComparison.Ordinal));

        /// <summary>Every listing a client can read, plus the names in the storage folders.</summary>
        public async Task<string> SnapshotAsync()
        {
            var owner = _factory.CreateClient(ModelServiceFactory.ApiKey);
            var parts = new List<string>();
            foreach (var path in new[] { "/api/v1/datasets", "/api/v1/models", "/api/v1/models/active", "/api/v1/training-jobs" })
            {
                parts.Add((await owner.GetJsonAsync(path)).GetRawText());
            }
            foreach (var folder in new[] { "datasets", "models" })
            {
                parts.Add(string.Join(",", Directory.EnumerateFileSystemEntries(Path.Combine(_factory.StorageRoot, folder))
                    .Select(Path.GetFileName).Order(StringComparer.Ordinal)));
            }
            parts.Add(File.ReadAllText(Path.Combine(_factory.StorageRoot, "active-model")));
            return string.Join("\n", parts);
        }

        public async Task InitializeAsync()
        {
            Client = _factory.CreateClient();
            var owner = _factory.CreateClient(ModelServiceFactory.ApiKey);
            var csv = new StringBuilder("square_footage,rooms,city,price\n");
            foreach (var (i, (x0, x1, price)) in TestData.Houses(20, seed: 5).Index())
            {
                csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{x0:R},{x1:R},{(i % 2 == 0 ? "north" : "south")},{price:R}\n");
            }
            var dataset = (await owner.UploadCsvAsync(csv.ToString())).GetProperty("id").GetString()!;
            var job = await owner.TrainAsync(new { datasetId = dataset, target = "price", epochs = 1, activate = false });
            var tensorSet = (await ServiceApi.ExpectAsync(await owner.PostAsync(new Uri("/api/v1/datasets", UriKind.Relative),
                ServiceApi.JsonBody(TensorDataset)), HttpStatusCode.Created)).GetProperty("id").GetString()!;
            var tensorJob = await owner.TrainAsync(new { datasetId = tensorSet, epochs = 1, activate = false });
            var active = (await owner.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString()!;
            _ids = new()
            {
                ["{ds}"] = dataset,
                ["{model}"] = job.GetProperty("modelId").GetString()!,
                ["{active}"] = active,
                ["{job}"] = job.GetProperty("id").GetString()!,
                ["{tensor}"] = tensorJob.GetProperty("modelId").GetString()!,
            };
            Before = await SnapshotAsync();
        }

        public Task DisposeAsync() => Task.CompletedTask;

        public void Dispose() => _factory.Dispose();
    }
}
