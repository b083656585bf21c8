using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace ModelService.Api.Observability;

internal static class ObservabilitySetup
{
    /// <summary>The OTLP collector address, the OpenTelemetry SDK's own variable; the exporter reads the rest of its settings
    /// (OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER...) itself.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Metrics always, scraped at GET /metrics. Traces of requests and training jobs only when
    /// OTEL_EXPORTER_OTLP_ENDPOINT is set: they and the metrics are then exported over OTLP, and otherwise no span is ever
    /// recorded, so requests pay nothing for tracing that nobody reads.</summary>
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                // Prometheus reserves a _count suffix for histograms and summaries; these runtime gauges would break lint.
                .AddView("dotnet.assembly.count", "dotnet.assemblies.loaded")
                .AddView("dotnet.process.cpu.count", "dotnet.process.cpus")
                .AddView("dotnet.timer.count", "dotnet.timers")
                .AddPrometheusExporter());
        if (IsOtlpEndpoint(builder.Configuration[OtlpEndpointVariable]))
        {
            telemetry
                .WithTracing(tracing => tracing
                    .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/metrics")))
                .UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>A feature's instruments, of meter <paramref name="meterName"/>: exported with the rest, and created when
    /// the meter provider starts, so that observable gauges report from the first scrape rather than from first use.</summary>
    public static IServiceCollection AddMeterInstruments<TInstruments>(this IServiceCollection services, string meterName)
        where TInstruments : class
    {
        services.AddSingleton<TInstruments>();
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics
            .AddMeter(meterName)
            .AddInstrumentation(provider => provider.GetRequiredService<TInstruments>()));
        return services;
    }

    /// <summary>The SDK would fall back to localhost on an address it cannot parse and export nowhere without a word, so
    /// a malformed one stops start-up instead.</summary>
    private static bool IsOtlpEndpoint(string? endpoint)
    {
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return false;
        }
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException(
                $"{OtlpEndpointVariable} must be an http or https URI such as http://otel-collector:4317, not '{endpoint}'.");
        }
        return true;
    }
}
