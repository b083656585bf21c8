namespace ModelService.Api.Local;

/// <summary>A local store belongs to one process, so in-process locks make its multi-step changes atomic.</summary>
internal sealed class LocalStoreLock
{
    /// <summary>Held while deleting a dataset and while queueing a job, so that one of the two wins.</summary>
    public Lock DatasetsAndJobs { get; } = new();

    /// <summary>Held while the set of models or the active pointer changes.</summary>
    public Lock Models { get; } = new();
}
