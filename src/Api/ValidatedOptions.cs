using Microsoft.Extensions.Options;

namespace ModelService.Api;

internal static class ValidatedOptions
{
    /// <summary>Binds <typeparamref name="T"/> to its configuration section and validates it at start-up, so a bad
    /// setting stops the service at once instead of surfacing on the first request that needs it.</summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, string section)
        where T : class =>
        services.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();
}
