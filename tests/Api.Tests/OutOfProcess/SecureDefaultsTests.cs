using System.Net;

namespace ModelService.Api.Tests.OutOfProcess;

/// <summary>Outside Development, a service with no key configured generates one at first start, keeps it under the
/// storage root readable by its owner only, says where it is (never what it is), and requires it for writes;
/// Auth:AllowAnonymousWrites=true is the explicit way to open writes.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(nameof(ServiceProcessesRunAlone))]
public sealed class SecureDefaultsTests : IDisposable
{
    private readonly string _storage = ModelServiceFactory.NewStorageFolder();

    public void Dispose() => ModelServiceFactory.DeleteStorage(_storage);

    [Fact]
    public async Task Without_a_key_writes_need_the_generated_one_which_survives_a_restart()
    {
        var keyFile = Path.Combine(_storage, "api-key");
        string key;
        using (var first = await ServiceProcess.StartAsync(_storage, new Dictionary<string, string> { ["Auth__AllowAnonymousWrites"] = "false" }))
        {
            var anonymous = await first.Client.PostAsync(new Uri("/api/v1/datasets?name=x", UriKind.Relative), ServiceApi.Csv("a,y\n1,2\n2,3\n"));
            await ServiceApi.ExpectProblemAsync(anonymous, HttpStatusCode.Unauthorized);

            Assert.True(File.Exists(keyFile));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            key = (await File.ReadAllTextAsync(keyFile)).Trim();
            Assert.True(key.Length >= 40, key.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Contains(keyFile, first.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(key, first.Output, StringComparison.Ordinal);

            using var keyed = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/datasets?name=x", UriKind.Relative)) { Content = ServiceApi.Csv("a,y\n1,2\n2,3\n") };
            keyed.Headers.Add("X-Api-Key", key);
            await ServiceApi.ExpectAsync(await first.Client.SendAsync(keyed), HttpStatusCode.Created);
            var read = await first.Client.GetAsync(new Uri("/api/v1/datasets", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        using var second = await ServiceProcess.StartAsync(_storage, new Dictionary<string, string> { ["Auth__AllowAnonymousWrites"] = "false" });
        Assert.Equal(key, (await File.ReadAllTextAsync(keyFile)).Trim());
        using var again = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/datasets?name=y", UriKind.Relative)) { Content = ServiceApi.Csv("a,y\n1,2\n2,3\n") };
        again.Headers.Add("X-Api-Key", key);
        await ServiceApi.ExpectAsync(await second.Client.SendAsync(again), HttpStatusCode.Created);
    }

    [Fact]
    public async Task AllowAnonymousWrites_opens_writes_and_generates_no_key()
    {
        using var service = await ServiceProcess.StartAsync(_storage, new Dictionary<string, string> { ["Auth__AllowAnonymousWrites"] = "true" });

        var anonymous = await service.Client.PostAsync(new Uri("/api/v1/datasets?name=x", UriKind.Relative), ServiceApi.Csv("a,y\n1,2\n2,3\n"));

        await ServiceApi.ExpectAsync(anonymous, HttpStatusCode.Created);
        Assert.False(File.Exists(Path.Combine(_storage, "api-key")));
        Assert.Contains("No API key is configured", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_shared_postgres_store_without_a_configured_key_refuses_to_start_and_says_why()
    {
        // Replicas behind one balancer would each generate a different key; the service must not start that way.
        var (exitCode, output) = await ServiceProcess.RunUntilExitAsync(_storage, new Dictionary<string, string>
        {
            ["Auth__AllowAnonymousWrites"] = "false",
            ["Storage__Provider"] = "postgres",
            ["ConnectionStrings__Postgres"] = "Host=127.0.0.1;Port=1;Database=unused",
        }, TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, exitCode);
        Assert.Contains("must share one key", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_storage, "api-key")));
    }
}
