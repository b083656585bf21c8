using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using ModelService.Api.Predictions;
using ModelService.Api.Training;
using ModelService.Api.Auth;
using ModelService.Api.Limits;
using ModelService.Api.Storage;

namespace ModelService.Api.Infrastructure;

internal static class OptionsSetup
{
    /// <summary>Binds every options class and validates it at start-up, so a bad setting stops the service at once
    /// instead of surfacing on the first request that needs it.</summary>
    public static IServiceCollection AddApiOptions(this IServiceCollection services)
    {
        Add<StorageOptions>(services, StorageOptions.Section);
        Add<ClusterOptions>(services, ClusterOptions.Section);
        Add<LimitsOptions>(services, LimitsOptions.Section);
        Add<TrainingQueueOptions>(services, TrainingQueueOptions.Section);
        Add<PredictionOptions>(services, PredictionOptions.Section);
        Add<AuthOptions>(services, AuthOptions.Section)
            .Validate(o => o.ApiKeys.All(k => k.Length >= 16), "Every Auth:ApiKeys entry must be at least 16 characters long.");
        Add<RateLimitingOptions>(services, RateLimitingOptions.Section)
            .Validate(o => IsValid(o.Predictions) && IsValid(o.Training),
                "RateLimiting:{Predictions,Training} need PermitLimit >= 0 and WindowSeconds between 1 and 86400.");
        return services;
    }

    private static OptionsBuilder<T> Add<T>(IServiceCollection services, string section)
        where T : class =>
        services.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();

    private static bool IsValid(object value) => Validator.TryValidateObject(value, new ValidationContext(value), null, validateAllProperties: true);
}
