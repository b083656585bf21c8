using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;

namespace ModelService.Api.Tests;

/// <summary>Every log event the service writes, rendered with its properties, so a test can read the log.</summary>
public sealed class CapturedLog : ILogEventSink
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public override string ToString() => string.Join("\n", _lines);

    public void Emit(LogEvent logEvent) => _lines.Enqueue(string.Join(" ",
        [logEvent.Level.ToString(), logEvent.RenderMessage(CultureInfo.InvariantCulture),
            .. logEvent.Properties.Select(p => $"{p.Key}={p.Value}"), logEvent.Exception?.ToString() ?? ""]));

    /// <summary>Settings that let every event through to the sink.</summary>
    public static Dictionary<string, string?> Verbose => new()
    {
        ["Serilog:MinimumLevel:Default"] = "Verbose",
        ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore"] = "Verbose",
    };

    /// <summary>A client of <paramref name="factory"/> whose log goes to <paramref name="log"/> too.</summary>
    public static HttpClient Client(ModelServiceFactory factory, CapturedLog log, string? apiKey = null)
    {
        var client = factory.WithWebHostBuilder(builder =>
        {
            builder.ConfigureTestServices(services => services.AddSingleton<ILogEventSink>(log));
        }).CreateClient();
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }
        return client;
    }
}
