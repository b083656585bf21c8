using Microsoft.Extensions.Logging;

namespace ModelService.Api.Datasets;

/// <summary>What every dataset store logs, written once for all providers (each passes its own logger, so the category
/// stays the store's).</summary>
internal static partial class DatasetStoreLog
{
    /// <summary>A dataset was stored: its rows and columns, or a tensor dataset's samples and shape.</summary>
    public static void Stored(ILogger logger, DatasetInfo info)
    {
        if (info.Shape is [var height, var width, var channels])
        {
            StoredTensor(logger, info.Id, info.RowCount, height, width, channels);
        }
        else
        {
            StoredTable(logger, info.Id, info.RowCount, info.Columns.Count);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted dataset {DatasetId}")]
    public static partial void Deleted(ILogger logger, string datasetId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stored dataset {DatasetId} with {RowCount} rows and {ColumnCount} columns")]
    private static partial void StoredTable(ILogger logger, string datasetId, int rowCount, int columnCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stored tensor dataset {DatasetId} with {SampleCount} samples of {Height}x{Width}x{Channels}")]
    private static partial void StoredTensor(ILogger logger, string datasetId, int sampleCount, int height, int width, int channels);
}
