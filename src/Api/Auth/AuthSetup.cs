using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using ModelService.Api.Storage;

namespace ModelService.Api.Auth;

internal static partial class AuthSetup
{
    public static IServiceCollection AddApiKeyAuth(this IServiceCollection services)
    {
        services.AddValidatedOptions<AuthOptions>(AuthOptions.Section)
            .Validate(o => o.ApiKeys.All(k => k.Length >= 16), "Every Auth:ApiKeys entry must be at least 16 characters long.");
        services.AddSingleton<ApiKeys>();
        services.AddSingleton<IAuthorizationHandler, ApiKeyRequirementHandler>();
        services.AddAuthentication(ApiPolicies.Scheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiPolicies.Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicies.Read, policy => policy.AddRequirements(new ApiKeyRequirement(IsWrite: false)))
            .AddPolicy(ApiPolicies.Write, policy => policy.AddRequirements(new ApiKeyRequirement(IsWrite: true)));
        return services;
    }

    /// <summary>Decides, once at start-up, who may write: the configured keys; in Development without one, anyone (with
    /// a warning); elsewhere without one, the holder of the key stored under the storage root (generated at first start),
    /// unless Auth:AllowAnonymousWrites opens writes explicitly.</summary>
    public static WebApplication UseApiKeyAuth(this WebApplication app)
    {
        var keys = app.Services.GetRequiredService<ApiKeys>();
        var options = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AuthSetup));
        if (!keys.AnyConfigured)
        {
            if (app.Environment.IsDevelopment() || options.AllowAnonymousWrites)
            {
                LogWritesOpen(logger);
            }
            else if (app.Services.GetRequiredService<IOptions<StorageOptions>>().Value.Provider == StorageProvider.Postgres)
            {
                // A key generated under each process's own storage root would differ between replicas behind one balancer.
                throw new InvalidOperationException("Storage:Provider=postgres shares one store between processes, so they must "
                    + "share one key: set Auth:ApiKeys (for example Auth__ApiKeys__0 from a Secret or .env), or "
                    + "Auth:AllowAnonymousWrites=true to open writes.");
            }
            else
            {
                var file = ApiKeyFile.LoadOrCreate(app.Services.GetRequiredService<StoragePaths>().Root);
                keys.AddStoredKey(file.Key);
                LogStoredKey(logger, file.Path, file.Created ? "generated it now" : "read it");
            }
        }
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "No API key is configured (Auth:ApiKeys): anyone who can reach the service can upload, train, activate and delete")]
    private static partial void LogWritesOpen(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "No API key is configured (Auth:ApiKeys), so writes need the key stored in {KeyPath} (the service {Action}); "
            + "send it as X-Api-Key, set Auth:ApiKeys to choose your own, or Auth:AllowAnonymousWrites=true to open writes")]
    private static partial void LogStoredKey(ILogger logger, string keyPath, string action);
}
