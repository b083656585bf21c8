using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace ModelService.Api.Logging;

internal static class LoggingSetup
{
    private static readonly PathString PredictionsPath = new("/api/v1/predictions");

    /// <summary>Readable text in Development, compact JSON (one event per line, properties kept) everywhere else. Each host
    /// keeps its own logger (preserveStaticLogger) instead of routing through the process-wide Log.Logger, which the
    /// last host built would otherwise own: tests run several hosts in one process, and each must read its own log.</summary>
    public static WebApplicationBuilder AddApiLogging(this WebApplicationBuilder builder)
    {
        var development = builder.Environment.IsDevelopment();
        builder.Services.AddSerilog((services, logger) =>
        {
            logger.ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext();
            if (development)
            {
                logger.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
                    formatProvider: System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                logger.WriteTo.Console(new CompactJsonFormatter());
            }
        }, preserveStaticLogger: true);
        return builder;
    }

    public static WebApplication UseApiRequestLogging(this WebApplication app)
    {
        // A line per successful prediction costs more than the prediction itself under load (docs/BENCHMARKS.md): those
        // are logged at Debug, every other request and every failure as usual.
        app.UseSerilogRequestLogging(options => options.GetLevel = (http, _, exception) =>
            exception is not null || http.Response.StatusCode >= 500 ? LogEventLevel.Error
            : http.Response.StatusCode < 400 && http.Request.Path.StartsWithSegments(PredictionsPath) ? LogEventLevel.Debug
            : LogEventLevel.Information);
        return app;
    }
}
