using Microsoft.Extensions.Diagnostics.HealthChecks;
using ModelService.Api.Models;

namespace ModelService.Api.Health;

internal sealed class ModelLoadedHealthCheck(ModelRegistry registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(registry.Active is { } active
            ? HealthCheckResult.Healthy($"Model {active.Manifest.Id} is active.")
            : HealthCheckResult.Unhealthy("No model is loaded."));
}
