namespace ModelService.Api.Limits;

internal static class LimitsSetup
{
    /// <summary>The shared bound on large request bodies (see <see cref="RequestBody"/>).</summary>
    public static IServiceCollection AddRequestBodyLimits(this IServiceCollection services) =>
        services.AddSingleton<LargeBodyGate>();
}
