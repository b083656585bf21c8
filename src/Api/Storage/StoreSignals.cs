namespace ModelService.Api.Storage;

/// <summary>Changes made by any process sharing the store, announced to this one: the local provider raises them as
/// it writes, the PostgreSQL provider when a notification arrives. Handlers must be quick and never throw.</summary>
internal sealed class StoreSignals
{
    /// <summary>The active-model pointer may have changed.</summary>
    public event Action? ActiveModelChanged;

    /// <summary>A job may be waiting to be claimed.</summary>
    public event Action? JobQueued;

    /// <summary>A cancel was requested for the running job with this id.</summary>
    public event Action<string>? CancelRequested;

    public void RaiseActiveModelChanged() => ActiveModelChanged?.Invoke();

    public void RaiseJobQueued() => JobQueued?.Invoke();

    public void RaiseCancelRequested(string jobId) => CancelRequested?.Invoke(jobId);
}
