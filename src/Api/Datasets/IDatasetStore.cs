using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>Stored datasets: the normalised CSV (<see cref="DatasetCsv"/>) and its <see cref="DatasetInfo"/>. One
/// implementation per storage provider; every one passes the same contract tests.</summary>
internal interface IDatasetStore
{
    DatasetInfo Save(string name, DataTable table, IReadOnlyList<ColumnInfo> columns);

    /// <summary>Every dataset, newest first.</summary>
    IReadOnlyList<DatasetInfo> List();

    DatasetInfo? Get(string id);

    /// <summary>Reads a stored dataset back into a table, with the column types recorded at upload.</summary>
    DataTable? Load(string id);

    /// <summary>Deletes a dataset unless a queued or running job uses it. Atomic with submitting a job
    /// (<see cref="Training.IJobStore.Create"/>): of a delete and a submission racing over one dataset, exactly one
    /// wins.</summary>
    DatasetDeletion Delete(string id);
}

internal enum DatasetDeletion
{
    Deleted,
    NotFound,
    InUse,
}
