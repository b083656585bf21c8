using Microsoft.Extensions.Diagnostics.HealthChecks;
using ModelService.Api.Storage;

namespace ModelService.Api.Local;

/// <summary>Writes and removes a small file under the storage root: the service cannot train or upload without it.</summary>
internal sealed class LocalStorageHealthCheck(StoragePaths paths) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var probe = Path.Combine(paths.Root, $".health-{Guid.NewGuid():N}");
        try
        {
            await File.WriteAllBytesAsync(probe, [1], cancellationToken);
            File.Delete(probe);
            return HealthCheckResult.Healthy("Storage is writable.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The exception (with the path) goes to the log; the probe answer, which anyone may read, names no path.
            return HealthCheckResult.Unhealthy("Storage is not writable.", e);
        }
    }
}
