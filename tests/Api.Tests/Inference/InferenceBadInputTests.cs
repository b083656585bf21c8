using System.Net;

namespace ModelService.Api.Tests.Inference;

/// <summary>Inputs that used to fail inside the server on POST /v2/.../infer are answered with a 4xx and the
/// protocol's {"error"} body.</summary>
public sealed class InferenceBadInputTests(ModelServiceFactory factory) : IClassFixture<ModelServiceFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A_prediction_that_overflows_is_422_naming_the_row()
    {
        var response = await InferAsync("""
            {"inputs": [{"name": "input0", "shape": [2, 2], "datatype": "FP64", "data": [0.5, 0.5, 1e300, 0.5]}]}
            """);

        var body = await ServiceApi.ExpectAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Contains("row 1", body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lone_surrogate_escape_is_400()
    {
        var response = await InferAsync("""
            {"id": "a\ud800b", "inputs": [{"name": "input0", "shape": [1, 2], "datatype": "FP32", "data": [0.5, 0.5]}]}
            """);

        var body = await ServiceApi.ExpectAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("surrogate", body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_whole_surrogate_pair_is_text_and_is_answered()
    {
        var response = await InferAsync("""
            {"id": "\ud83d\ude00", "inputs": [{"name": "input0", "shape": [1, 2], "datatype": "FP32", "data": [0.5, 0.5]}]}
            """);

        var body = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Equal("\U0001F600", body.GetProperty("id").GetString());
    }

    private Task<HttpResponseMessage> InferAsync(string json) =>
        _client.PostAsync(new Uri("/v2/models/modelservice/infer", UriKind.Relative), ServiceApi.JsonBody(json));
}
