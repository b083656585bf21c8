using Microsoft.AspNetCore.Mvc.Testing;

namespace ModelService.Api.Tests;

public class LiveTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    [Fact]
    public async Task Live_answers_ok()
    {
        var response = await factory.CreateClient().GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode);
    }
}
