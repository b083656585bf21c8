namespace ModelService.Api.Health;

internal static class HealthSetup
{
    /// <summary>The model check; storage and training add their own checks, tagged <see cref="HealthEndpoints.ReadyTag"/>.</summary>
    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<ModelLoadedHealthCheck>("model", tags: [HealthEndpoints.ReadyTag]);
        return services;
    }
}
