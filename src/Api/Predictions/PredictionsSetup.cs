using ModelService.Api.Observability;

namespace ModelService.Api.Predictions;

internal static class PredictionsSetup
{
    public static IServiceCollection AddPredictions(this IServiceCollection services)
    {
        services.AddValidatedOptions<PredictionOptions>(PredictionOptions.Section);
        services.AddMeterInstruments<PredictionMetrics>(PredictionMetrics.MeterName);
        services.AddSingleton<ParallelScoring>();
        return services;
    }
}
