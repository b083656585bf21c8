using ModelService.Api.Health;
using ModelService.Api.Observability;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace ModelService.Api.Training;

internal static class TrainingSetup
{
    /// <summary>The queue's worker, the start-up warm-up run (readiness waits for it), the live progress of jobs and
    /// their telemetry.</summary>
    public static IServiceCollection AddTraining(this IServiceCollection services)
    {
        services.AddValidatedOptions<TrainingQueueOptions>(TrainingQueueOptions.Section);
        services.AddValidatedOptions<TrainingWarmupOptions>(TrainingWarmupOptions.Section);
        services.AddSingleton<TrainingJobRunner>();
        services.AddSingleton<TrainingWorker>();
        services.AddHostedService(provider => provider.GetRequiredService<TrainingWorker>());
        services.AddSingleton<TrainingWarmup>();
        services.AddHostedService(provider => provider.GetRequiredService<TrainingWarmup>());
        services.AddHealthChecks().AddCheck<TrainingWarmupHealthCheck>("training-warmup", tags: [HealthEndpoints.ReadyTag]);
        services.AddSingleton<TrainingEvents>();
        services.AddMeterInstruments<TrainingTelemetry>(TrainingTelemetry.MeterName);
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddView(TrainingTelemetry.EpochDurationName,
            new ExplicitBucketHistogramConfiguration { Boundaries = TrainingTelemetry.EpochDurationBuckets }));
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource(TrainingTelemetry.ActivitySourceName));
        return services;
    }
}
