using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ModelService.Api.Postgres;

/// <summary>Asks the database for a trivial answer. An unreachable database is Degraded, not Unhealthy: loaded models
/// keep predicting without it, so the process should keep receiving traffic.</summary>
internal sealed class PostgresHealthCheck(PostgresDatabase db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await using var command = db.DataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy("The database answers.");
        }
        catch (Exception e) when (PostgresDatabase.IsUnavailable(e) || e is OperationCanceledException)
        {
            return HealthCheckResult.Degraded("The database cannot be reached; loaded models keep predicting, writes answer 503.");
        }
    }
}
