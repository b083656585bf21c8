using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>Stored datasets: a table as normalised CSV (<see cref="DatasetCsv"/>), a tensor dataset as a normalised .npz
/// (<see cref="NpzArchive.Write"/>), each with its <see cref="DatasetInfo"/>. One implementation per storage provider;
/// every one passes the same contract tests.</summary>
internal interface IDatasetStore
{
    DatasetInfo Save(string name, DataTable table, IReadOnlyList<ColumnInfo> columns);

    /// <summary>Stores a tensor dataset; <paramref name="summary"/> is <see cref="TensorSummary.Of"/> of the data.</summary>
    DatasetInfo SaveTensor(string name, TensorData data, TensorSummary summary);

    /// <summary>Every dataset, newest first.</summary>
    IReadOnlyList<DatasetInfo> List();

    DatasetInfo? Get(string id);

    /// <summary>Reads a stored table back, with the column types recorded at upload; null when there is no such dataset.</summary>
    /// <exception cref="DatasetKindException">The dataset is a tensor dataset.</exception>
    DataTable? Load(string id);

    /// <summary>Reads a stored tensor dataset back; null when there is no such dataset.</summary>
    /// <exception cref="DatasetKindException">The dataset is a table.</exception>
    TensorData? LoadTensor(string id);

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
