namespace ModelService.Api.Local;

/// <summary>The zero-configuration provider: SQLite and files under Storage:Root, for one process.</summary>
internal static class LocalStorage
{
    public static IServiceCollection AddLocalStores(this IServiceCollection services)
    {
        services.AddSingleton<LocalStoreLock>();
        services.AddSingleton<LocalJobStore>();
        services.AddSingleton<LocalModelStore>();
        services.AddSingleton<LocalDatasetStore>();
        services.AddSingleton<LocalStorageHealthCheck>();
        return services;
    }
}
