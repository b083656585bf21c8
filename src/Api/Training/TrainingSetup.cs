namespace ModelService.Api.Training;

internal static class TrainingSetup
{
    public static IServiceCollection AddTraining(this IServiceCollection services)
    {
        services.AddSingleton<TrainingJobRunner>();
        services.AddSingleton<TrainingWorker>();
        services.AddHostedService(provider => provider.GetRequiredService<TrainingWorker>());
        return services;
    }
}
