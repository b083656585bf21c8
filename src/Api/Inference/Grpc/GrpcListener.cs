using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ModelService.Api.Inference.Grpc;

/// <summary>Adds the HTTP/2 listener for gRPC (Inference:GrpcPort). Kestrel stops reading the usual URL settings once
/// an endpoint is configured in code, so the HTTP/1 endpoints they name (urls, http_ports, https_ports; else Kestrel's
/// default http://localhost:5000) are configured here too, exactly as given.</summary>
internal static class GrpcListener
{
    private const string DefaultUrl = "http://localhost:5000";

    public static void Configure(IConfiguration configuration, KestrelServerOptions kestrel)
    {
        var port = configuration.GetValue($"{InferenceOptions.Section}:{nameof(InferenceOptions.GrpcPort)}", new InferenceOptions().GrpcPort);
        if (port == 0)
        {
            return;
        }
        foreach (var url in Urls(configuration))
        {
            Listen(kestrel, BindingAddress.Parse(url));
        }
        kestrel.ListenAnyIP(port, listen => listen.Protocols = HttpProtocols.Http2);
    }

    private static List<string> Urls(IConfiguration configuration)
    {
        static IEnumerable<string> Split(string? value) =>
            (value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        var urls = Split(configuration["urls"]).ToList();
        if (urls.Count == 0)
        {
            urls.AddRange(Split(configuration["http_ports"]).Select(p => $"http://*:{p}"));
            urls.AddRange(Split(configuration["https_ports"]).Select(p => $"https://*:{p}"));
        }
        return urls.Count > 0 ? urls : [DefaultUrl];
    }

    private static void Listen(KestrelServerOptions kestrel, BindingAddress address)
    {
        Action<ListenOptions> configure = address.Scheme == "https" ? o => o.UseHttps() : _ => { };
        if (address.IsUnixPipe)
        {
            kestrel.ListenUnixSocket(address.UnixPipePath, configure);
        }
        else if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(address.Port, configure);
        }
        else if (IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip))
        {
            kestrel.Listen(ip, address.Port, configure);
        }
        else
        {
            // "*", "+" and host names bind every interface, as Kestrel does for them.
            kestrel.ListenAnyIP(address.Port, configure);
        }
    }

}
