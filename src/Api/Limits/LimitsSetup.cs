using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace ModelService.Api.Limits;

internal static class LimitsSetup
{
    /// <summary>The size limits of section "Limits": Kestrel refuses a body over Limits:MaxRequestBodyBytes, and large
    /// bodies share a bounded number of slots (see <see cref="RequestBody"/>).</summary>
    public static IServiceCollection AddRequestLimits(this IServiceCollection services)
    {
        services.AddValidatedOptions<LimitsOptions>(LimitsOptions.Section);
        services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<LimitsOptions>>((kestrel, limits) => kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBodyBytes);
        services.AddSingleton<LargeBodyGate>();
        return services;
    }
}
