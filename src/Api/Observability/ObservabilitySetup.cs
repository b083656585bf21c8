using System.Diagnostics;
using Microsoft.Extensions.Options;
using OpenTelemetry;
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
        // Decided when the provider is built, from the final configuration: without an endpoint nothing is sampled or sent.
        telemetry.WithTracing(tracing => tracing
            .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/metrics"))
            .AddSource(ServiceMetrics.ActivitySourceName)
            .SetSampler(services => OtlpEndpoint(services) is null ? new AlwaysOffSampler() : new ParentBasedSampler(new AlwaysOnSampler()))
            .AddProcessor(services => OtlpEndpoint(services) is { } endpoint
                ? new BatchActivityExportProcessor(new OtlpTraceExporter(ExporterOptions(endpoint, services)))
                : new SimpleActivityExportProcessor(new NoExport())));
        return builder;
    }

    private static Uri? OtlpEndpoint(IServiceProvider services) =>
        services.GetRequiredService<IOptions<ObservabilityOptions>>().Value.OtlpEndpoint is { Length: > 0 } text ? new Uri(text) : null;

    private static OtlpExporterOptions ExporterOptions(Uri endpoint, IServiceProvider services)
    {
        var protocol = services.GetRequiredService<IOptions<ObservabilityOptions>>().Value.OtlpProtocol == "grpc"
            ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        return new OtlpExporterOptions
        {
            Protocol = protocol,
            // Over HTTP the exporter posts to the address as given; a bare collector address means its traces path.
            Endpoint = protocol == OtlpExportProtocol.HttpProtobuf && endpoint.AbsolutePath == "/" ? new Uri(endpoint, "v1/traces") : endpoint,
        };
    }

    /// <summary>Stands in for the exporter when none is configured (the sampler already records nothing).</summary>
    private sealed class NoExport : BaseExporter<Activity>
    {
        public override ExportResult Export(in Batch<Activity> batch) => ExportResult.Success;
    }

    public static IEndpointConventionBuilder MapMetrics(this WebApplication app) =>
        app.MapPrometheusScrapingEndpoint("/metrics").WithTags("Operations").WithName("Metrics")
            .WithSummary("Prometheus metrics (text exposition format)")
            .WithDescription("Request rate and latency per route, predicted rows, the active model, jobs by state, queue depth, "
                + "epoch duration and the .NET runtime's metrics.");
}
