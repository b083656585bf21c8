using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ModelService.Api.Tests.OutOfProcess;

/// <summary>Tests that start service processes run one class at a time: several services starting at once on a
/// busy machine would time each other out.</summary>
[CollectionDefinition(nameof(ServiceProcessesRunAlone), DisableParallelization = true)]
public sealed class ServiceProcessesRunAlone;

/// <summary>The built service run as its own OS process (<c>dotnet ModelService.Api.dll</c>) in Production on a given
/// storage folder and a free loopback port, with its console output captured for assertion messages.</summary>
public sealed class ServiceProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private static readonly HashSet<int> HandedOut = [];

    private readonly System.Diagnostics.Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(string storageRoot, IReadOnlyDictionary<string, string>? environment)
    {
        var port = FreeLoopbackPort();
        BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        GrpcPort = FreeLoopbackPort();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ModelService.Api.dll"));
        start.Environment["ASPNETCORE_URLS"] = BaseAddress.ToString().TrimEnd('/');
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["Storage__Root"] = storageRoot;
        // Each process its own gRPC port, so that processes started side by side do not contend for the default.
        start.Environment["Inference__GrpcPort"] = GrpcPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["Training__Threads"] = "1";
        start.Environment["Training__IdleScheduling"] = "false";
        // Out-of-process tests time their own first jobs; the warm-up would only lengthen every start (its own test turns it on).
        start.Environment["TrainingWarmup__Enabled"] = "false";
        // Keeps the captured output to what explains a failure: start-up, jobs and warnings, not every poll.
        start.Environment["Serilog__MinimumLevel__Override__Serilog.AspNetCore.RequestLoggingMiddleware"] = "Warning";
        // Production requires a key for writes; tests that do not set Auth themselves write with the factory's key.
        var keyed = environment?.Keys.Any(k => k.StartsWith("Auth__", StringComparison.Ordinal)) != true;
        if (keyed)
        {
            start.Environment["Auth__ApiKeys__0"] = ModelServiceFactory.ApiKey;
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        _process = new System.Diagnostics.Process { StartInfo = start };
        _process.OutputDataReceived += (_, line) => Append("out", line.Data);
        _process.ErrorDataReceived += (_, line) => Append("err", line.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (keyed)
        {
            Client.DefaultRequestHeaders.Add("X-Api-Key", ModelServiceFactory.ApiKey);
        }
    }

    public Uri BaseAddress { get; }

    /// <summary>The HTTP/2 port the process serves gRPC on (Inference:GrpcPort).</summary>
    public int GrpcPort { get; }

    public HttpClient Client { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>What the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the service on <paramref name="storageRoot"/>, with <paramref name="environment"/> added to its
    /// environment, and waits until <c>/health/ready</c> answers 200.</summary>
    public static async Task<ServiceProcess> StartAsync(string storageRoot, IReadOnlyDictionary<string, string>? environment = null)
    {
        var service = new ServiceProcess(storageRoot, environment);
        try
        {
            await service.WaitUntilReadyAsync();
            return service;
        }
        catch
        {
            service.Dispose();
            throw;
        }
    }

    /// <summary>Starts the service and waits for it to exit by itself, as a refused start-up does; returns its exit code
    /// and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunUntilExitAsync(string storageRoot,
        IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        using var service = new ServiceProcess(storageRoot, environment);
        using var wait = new CancellationTokenSource(timeout);
        await service._process.WaitForExitAsync(wait.Token);
        return (service._process.ExitCode, service.Output);
    }

    /// <summary>SIGKILL: the process gets no chance to clean up.</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: true);
        Assert.True(_process.WaitForExit(TimeSpan.FromSeconds(10)), $"Process did not die after SIGKILL.\n{Output}");
    }

    /// <summary>SIGTERM, as a container stop sends it; returns whether the process exited within <paramref name="timeout"/>.</summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
            Assert.True(kill.ExitCode == 0, $"kill -TERM {_process.Id} failed with exit code {kill.ExitCode}");
        }
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        Client.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // The process already exited.
        }
        _process.Dispose();
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            Assert.False(_process.HasExited, $"Service exited with code {(_process.HasExited ? _process.ExitCode : 0)} before it was ready.\n{Output}");
            try
            {
                using var response = await Client.GetAsync(new Uri("/health/ready", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            Assert.True(DateTime.UtcNow < deadline, $"Service was not ready within {StartTimeout.TotalSeconds} s.\n{Output}");
            await Task.Delay(100);
        }
    }

    private void Append(string stream, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.Append(stream).Append("> ").AppendLine(line);
        }
    }

    /// <summary>A port free now and never handed out before in this test run: the kernel often gives a port just
    /// released to the next caller, and processes started side by side (two ports each) must not collide.</summary>
    private static int FreeLoopbackPort()
    {
        lock (HandedOut)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
