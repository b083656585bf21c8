using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace ModelService.Api.Json;

internal static class JsonSetup
{
    public static IServiceCollection AddApiJson(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default.WithAddedModifier(NullMeansDefault.Apply));
            options.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            options.SerializerOptions.MaxDepth = JsonLimits.MaxDepth;
            // A metric such as R² is undefined (NaN) for a constant target; it is shown as "NaN" rather than failing the response.
            options.SerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        });
}
