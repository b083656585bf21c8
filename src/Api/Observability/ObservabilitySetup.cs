using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ModelService.Api.Observability;

internal static class ObservabilitySetup
{
    private static readonly double[] EpochBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

    /// <summary>Prometheus metrics always (GET /metrics); OTLP traces of requests and training jobs only when
    /// Observability:OtlpEndpoint is set.</summary>
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ObservabilityOptions>().BindConfiguration(ObservabilityOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ServiceMetrics>();
        var options = builder.Configuration.GetSection(ObservabilityOptions.Section).Get<ObservabilityOptions>() ?? new ObservabilityOptions();
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(ServiceMetrics.MeterName)
                // Prometheus reserves a _count suffix for histograms and summaries; these runtime gauges would break lint.
                .AddView("dotnet.assembly.count", "dotnet.assemblies.loaded")
                .AddView("dotnet.process.cpu.count", "dotnet.process.cpus")
                .AddView("dotnet.timer.count", "dotnet.timers")
                .AddView(ServiceMetrics.EpochDurationName, new ExplicitBucketHistogramConfiguration { Boundaries = EpochBuckets })
                .AddPrometheusExporter());
        if (!string.IsNullOrEmpty(options.OtlpEndpoint) && Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out var endpoint))
        {
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/metrics"))
                .AddSource(ServiceMetrics.ActivitySourceName)
                .AddOtlpExporter(o =>
                {
                    o.Endpoint = endpoint;
                    o.Protocol = options.OtlpProtocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                }));
        }
        return builder;
    }

    public static IEndpointConventionBuilder MapMetrics(this WebApplication app) =>
        app.MapPrometheusScrapingEndpoint("/metrics").WithTags("Operations").WithName("Metrics")
            .WithSummary("Prometheus metrics (text exposition format)");
}
