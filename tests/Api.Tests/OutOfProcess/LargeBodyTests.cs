using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ModelService.Api.Tests.OutOfProcess;

/// <summary>Large request bodies share a few slots (Kestrel, as deployed: the test server does not stream bodies). A
/// client that sends the start of a large body and stalls is answered 408 once it falls behind the minimum rate; a
/// large body that finds every slot taken waits and then gets 503 with Retry-After; small bodies never wait; a body
/// that declares more than it sends costs only what it sends.</summary>
[Collection(nameof(ServiceProcessesRunAlone))]
public sealed class LargeBodyTests : IAsyncLifetime
{
    private readonly string _storage = ModelServiceFactory.NewStorageFolder();
    private ServiceProcess _service = null!;

    public async Task InitializeAsync() =>
        _service = await ServiceProcess.StartAsync(_storage, new Dictionary<string, string>
        {
            ["Limits__LargeBodyBytes"] = "16384",
            ["Limits__MaxConcurrentLargeBodies"] = "1",
            ["Limits__LargeBodyWaitSeconds"] = "1",
            ["Limits__LargeBodyGraceSeconds"] = "8",
            ["Limits__MinLargeBodyBytesPerSecond"] = "1048576",
        });

    public Task DisposeAsync()
    {
        _service.Dispose();
        ModelServiceFactory.DeleteStorage(_storage);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_stalled_large_body_is_408_and_meanwhile_other_large_bodies_get_503_and_small_ones_are_answered()
    {
        await _service.Client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), ServiceApi.JsonBody(Instances(2000)));
        var body = Encoding.UTF8.GetBytes(Instances(2000));
        using var stalled = await SendHeadAndStallAsync(body, sendFirst: 40_000);

        // Until the stalled body times out, it holds the only slot: other large bodies wait and are turned away...
        HttpResponseMessage turnedAway;
        var deadline = DateTime.UtcNow.AddSeconds(5);
        do
        {
            turnedAway = await _service.Client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), ServiceApi.JsonBody(Instances(2000)));
        }
        while (turnedAway.StatusCode == HttpStatusCode.OK && DateTime.UtcNow < deadline);
        // ...and small ones are answered at once.
        var small = await _service.Client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), ServiceApi.JsonBody(Instances(3)));

        var problem = await ServiceApi.ExpectProblemAsync(turnedAway, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("Limits:MaxConcurrentLargeBodies", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotNull(turnedAway.Headers.RetryAfter);
        await ServiceApi.ExpectAsync(small, HttpStatusCode.OK);
        var answer = await ReadStatusLineAsync(stalled);
        Assert.StartsWith("HTTP/1.1 408", answer, StringComparison.Ordinal);

        var after = await _service.Client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), ServiceApi.JsonBody(Instances(2000)));
        Assert.Equal(2000, (await ServiceApi.ExpectAsync(after, HttpStatusCode.OK)).GetProperty("predictions").GetArrayLength());
    }

    [Fact]
    public async Task A_body_declaring_100_MB_and_sending_a_little_holds_no_slot_and_no_buffer_of_that_size()
    {
        var rssBefore = ResidentBytes(_service.Id);
        var head = Encoding.UTF8.GetBytes("{\"instances\": [[0.5, 0.5]");
        var clients = new List<TcpClient>();
        for (var i = 0; i < 8; i++)
        {
            clients.Add(await SendHeadAndStallAsync(head, sendFirst: head.Length, declared: 100_000_000));
        }
        await Task.Delay(1000);

        var large = await _service.Client.PostAsync(new Uri("/api/v1/predictions", UriKind.Relative), ServiceApi.JsonBody(Instances(2000)));

        Assert.Equal(2000, (await ServiceApi.ExpectAsync(large, HttpStatusCode.OK)).GetProperty("predictions").GetArrayLength());
        Assert.True(ResidentBytes(_service.Id) - rssBefore < 200_000_000, "8 bodies declaring 100 MB each must not cost their declared size");
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    private async Task<TcpClient> SendHeadAndStallAsync(byte[] body, int sendFirst, long? declared = null)
    {
        var client = new TcpClient();
        await client.ConnectAsync(_service.BaseAddress.Host, _service.BaseAddress.Port);
        var stream = client.GetStream();
        var head = $"POST /api/v1/predictions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + $"Content-Length: {(declared ?? body.Length).ToString(CultureInfo.InvariantCulture)}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body.AsMemory(0, sendFirst));
        return client;
    }

    private static async Task<string> ReadStatusLineAsync(TcpClient client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[64];
        var read = await client.GetStream().ReadAsync(buffer, timeout.Token);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    internal static long ResidentBytes(int pid)
    {
        var status = File.ReadAllLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status");
        var line = status.Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    private static string Instances(int rows) =>
        "{\"instances\": [" + string.Join(",", Enumerable.Range(0, rows).Select(i =>
            string.Create(CultureInfo.InvariantCulture, $"[{(i % 10) / 10.0}, {(i % 7) / 7.0}]"))) + "]}";
}
