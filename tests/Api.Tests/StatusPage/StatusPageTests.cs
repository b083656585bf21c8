using System.Net;

namespace ModelService.Api.Tests.StatusPage;

/// <summary>GET / serves the status page and its assets without a key; tests/browser/check.sh renders it in Chromium.</summary>
public sealed class StatusPageTests(ModelServiceFactory factory) : IClassFixture<ModelServiceFactory>
{
    [Theory]
    [InlineData("/", "text/html", "<script src=\"status.js\"></script>")]
    [InlineData("/status.js", "text/javascript", "function lossChart(history)")]
    [InlineData("/status.css", "text/css", "svg.loss-chart")]
    public async Task ThePageAndItsAssetsAreServed(string path, string mediaType, string content)
    {
        using var keyed = new ModelServiceFactory(new Dictionary<string, string?> { ["Auth:ApiKeys:0"] = ModelServiceFactory.ApiKey });
        foreach (var client in new[] { factory.CreateClient(), keyed.CreateClient() })
        {
            var response = await client.GetAsync(new Uri(path, UriKind.Relative));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
            Assert.Contains(content, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }
}
