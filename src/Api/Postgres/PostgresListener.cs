using ModelService.Api.Storage;
using Npgsql;

namespace ModelService.Api.Postgres;

/// <summary>Holds one connection that LISTENs to the store's channels and raises <see cref="StoreSignals"/> for each
/// notification. After every (re)connection it raises all of them once, since notifications sent while it was away
/// are lost; the followers' polling covers the time it takes to notice a dropped connection.</summary>
internal sealed partial class PostgresListener(PostgresDatabase db, StoreSignals signals, ILogger<PostgresListener> logger)
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await db.DataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand(
                    $"LISTEN {PostgresDatabase.ActiveModelChannel}; LISTEN {PostgresDatabase.JobQueuedChannel}; LISTEN {PostgresDatabase.CancelChannel}",
                    connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                if (failing)
                {
                    LogReconnected(logger);
                }
                failing = false;
                signals.RaiseActiveModelChanged();
                signals.RaiseJobQueued();
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (PostgresDatabase.IsUnavailable(e) || e is System.IO.IOException)
            {
                if (!failing)
                {
                    LogDisconnected(logger, e);
                }
                failing = true;
                try
                {
                    await Task.Delay(RetryDelay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        switch (e.Channel)
        {
            case PostgresDatabase.ActiveModelChannel:
                signals.RaiseActiveModelChanged();
                break;
            case PostgresDatabase.JobQueuedChannel:
                signals.RaiseJobQueued();
                break;
            case PostgresDatabase.CancelChannel:
                signals.RaiseCancelRequested(e.Payload);
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the notification connection to the database; reconnecting (processes poll meanwhile)")]
    private static partial void LogDisconnected(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification connection to the database is back")]
    private static partial void LogReconnected(ILogger logger);
}
