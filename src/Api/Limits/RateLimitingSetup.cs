using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace ModelService.Api.Limits;

/// <summary>Per-client fixed-window limits (section "RateLimiting"); the defaults are generous so that load tests and
/// batch clients are not throttled.</summary>
internal sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    [Required]
    public WindowLimit Predictions { get; set; } = new() { PermitLimit = 100_000, WindowSeconds = 1 };

    [Required]
    public WindowLimit Training { get; set; } = new() { PermitLimit = 60, WindowSeconds = 60 };

    internal sealed class WindowLimit
    {
        /// <summary>Requests one client may make per window; 0 turns the limit off.</summary>
        [Range(0, int.MaxValue)]
        public int PermitLimit { get; set; }

        [Range(1, 86_400)]
        public int WindowSeconds { get; set; } = 1;
    }
}

internal static class RateLimitingSetup
{
    public const string PredictionsPolicy = "predictions";
    public const string TrainingPolicy = "training";

    public static IServiceCollection AddApiRateLimiting(this IServiceCollection services)
    {
        services.AddValidatedOptions<RateLimitingOptions>(RateLimitingOptions.Section)
            .Validate(o => IsValid(o.Predictions) && IsValid(o.Training),
                "RateLimiting:{Predictions,Training} need PermitLimit >= 0 and WindowSeconds between 1 and 86400.");
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(PredictionsPolicy, context => Partition(context, o => o.Predictions));
            limiter.AddPolicy(TrainingPolicy, context => Partition(context, o => o.Training));
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var http = rejected.HttpContext;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = $"Rate limit reached; retry after {http.Response.Headers.RetryAfter} s.",
                    },
                });
            };
        });
        return services;
    }

    private static bool IsValid(object value) => Validator.TryValidateObject(value, new ValidationContext(value), null, validateAllProperties: true);

    private static RateLimitPartition<string> Partition(HttpContext context, Func<RateLimitingOptions, RateLimitingOptions.WindowLimit> select)
    {
        var limit = select(context.RequestServices.GetRequiredService<IOptions<RateLimitingOptions>>().Value);
        var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (limit.PermitLimit == 0)
        {
            return RateLimitPartition.GetNoLimiter(client);
        }
        return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limit.PermitLimit,
            Window = TimeSpan.FromSeconds(limit.WindowSeconds),
            QueueLimit = 0,
        });
    }
}
