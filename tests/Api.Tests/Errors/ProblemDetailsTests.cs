using System.Net;

namespace ModelService.Api.Tests.Errors;

/// <summary>Errors outside any handler (unknown routes, wrong methods, unreadable bodies) leave as problem details too.</summary>
public sealed class ProblemDetailsTests(ModelServiceFactory factory) : IClassFixture<ModelServiceFactory>
{
    private readonly ModelServiceFactory _factory = factory;

    [Fact]
    public async Task Malformed_json_is_a_400_problem()
    {
        var response = await _factory.CreateClient().PostAsync(new Uri("/api/v1/training-jobs", UriKind.Relative),
            ServiceApi.JsonBody("""{"datasetId": "ds_AAAAAAAAAAAA", "epochs": "many"}"""));

        await ServiceApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "epochs");
    }

    [Theory]
    [InlineData("GET", "/nothing-here")]
    [InlineData("GET", "/api/v1/unknown")]
    [InlineData("PUT", "/api/v1/datasets")]
    [InlineData("PATCH", "/api/v1/models")]
    [InlineData("GET", "/api/v1/predictions")]
    public async Task Unknown_routes_and_methods_are_problems(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));

        var response = await _factory.CreateClient().SendAsync(request);

        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, response.StatusCode.ToString());
        await ServiceApi.ExpectProblemAsync(response, response.StatusCode);
    }
}
