using ModelService.Api.Observability;

namespace ModelService.Api.Models;

internal static class ModelsSetup
{
    public static IServiceCollection AddModels(this IServiceCollection services)
    {
        services.AddSingleton<PredictorCache>();
        services.AddSingleton<ModelRegistry>();
        services.AddHostedService<ActiveModelLoader>();
        services.AddHostedService<ActiveModelFollower>();
        services.AddMeterInstruments<ActiveModelMetrics>(ActiveModelMetrics.MeterName);
        return services;
    }
}
