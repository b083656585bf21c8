namespace ModelService.Api.Observability;

internal static class MetricsEndpoints
{
    public static IEndpointConventionBuilder MapMetrics(this IEndpointRouteBuilder routes) =>
        routes.MapPrometheusScrapingEndpoint("/metrics").WithTags("Operations").WithName("Metrics")
            .WithSummary("Prometheus metrics (text exposition format)")
            .WithDescription("Request rate and latency per route, predicted rows, the active model, jobs by state, queue depth, "
                + "epoch duration and the .NET runtime's metrics.");
}
