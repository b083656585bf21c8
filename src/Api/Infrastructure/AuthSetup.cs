using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace ModelService.Api.Infrastructure;

internal static partial class AuthSetup
{
    public static IServiceCollection AddApiKeyAuth(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeys>();
        services.AddSingleton<IAuthorizationHandler, ApiKeyRequirementHandler>();
        services.AddAuthentication(ApiPolicies.Scheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiPolicies.Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicies.Read, policy => policy.AddRequirements(new ApiKeyRequirement(IsWrite: false)))
            .AddPolicy(ApiPolicies.Write, policy => policy.AddRequirements(new ApiKeyRequirement(IsWrite: true)));
        return services;
    }

    public static WebApplication UseApiKeyAuth(this WebApplication app)
    {
        var keys = app.Services.GetRequiredService<ApiKeys>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AuthSetup));
        if (!keys.AnyConfigured)
        {
            LogWritesOpen(logger);
        }
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "No API key is configured (Auth:ApiKeys): anyone who can reach the service can upload, train, activate and delete")]
    private static partial void LogWritesOpen(ILogger logger);
}
