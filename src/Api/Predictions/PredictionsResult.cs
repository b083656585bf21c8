using System.Buffers;
using System.Reflection;
using System.Text.Json;
using CommunityToolkit.HighPerformance.Buffers;
using Microsoft.AspNetCore.Http.Metadata;

namespace ModelService.Api.Predictions;

/// <summary>Writes <c>{"modelId": "...", "predictions": [...]}</c> with a <see cref="Utf8JsonWriter"/> straight into
/// the response, flushing as it goes, and returns the pooled buffers: either predictions to format (a number per row, or
/// for a per-position tensor model an [H, W] array per sample), or predictions already formatted per slice by
/// <see cref="SlicedScoring"/>.</summary>
internal sealed class PredictionsResult : IResult, IEndpointMetadataProvider
{
    private const int RowsPerFlush = 16_384;

    private readonly string _modelId;
    private readonly double[]? _predictions;
    private readonly ArrayPoolBufferWriter<byte>[]? _slices;
    private readonly (int Height, int Width)? _grid;

    public PredictionsResult(string modelId, double[] predictions, int count)
    {
        _modelId = modelId;
        _predictions = predictions;
        RowCount = count;
    }

    /// <summary>Per-position predictions: <paramref name="count"/> samples of <paramref name="height"/> x
    /// <paramref name="width"/> values each, written as nested arrays.</summary>
    public PredictionsResult(string modelId, double[] predictions, int count, int height, int width)
        : this(modelId, predictions, count)
    {
        _grid = (height, width);
    }

    /// <param name="modelId">The model that scored the rows.</param>
    /// <param name="slices">Each a JSON array of predictions, in order.</param>
    /// <param name="count">Predictions in all the slices.</param>
    public PredictionsResult(string modelId, ArrayPoolBufferWriter<byte>[] slices, int count)
    {
        _modelId = modelId;
        _slices = slices;
        RowCount = count;
    }

    public int RowCount { get; }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        try
        {
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json; charset=utf-8";
            await using var writer = new Utf8JsonWriter(response.BodyWriter);
            writer.WriteStartObject();
            writer.WriteString("modelId", _modelId);
            writer.WriteStartArray("predictions");
            if (_grid is var (height, width))
            {
                await WriteGridsAsync(writer, httpContext, height, width);
            }
            else if (_slices is null)
            {
                for (var i = 0; i < RowCount; i++)
                {
                    WriteValue(writer, _predictions![i]);
                    if (i % RowsPerFlush == RowsPerFlush - 1)
                    {
                        writer.Flush();
                        await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
                    }
                }
            }
            else
            {
                foreach (var slice in _slices)
                {
                    // A slice is "[a,b,...]": its elements go into the one array, the writer adding the comma between slices.
                    writer.WriteRawValue(slice.WrittenSpan[1..^1], skipInputValidation: true);
                    writer.Flush();
                    await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
                }
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.Flush();
            await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
        }
        finally
        {
            if (_predictions is not null)
            {
                ArrayPool<double>.Shared.Return(_predictions);
            }
            foreach (var slice in _slices ?? [])
            {
                slice.Dispose();
            }
        }
    }

    /// <summary>Each sample as an array of <paramref name="height"/> rows of <paramref name="width"/> predictions.</summary>
    private async Task WriteGridsAsync(Utf8JsonWriter writer, HttpContext httpContext, int height, int width)
    {
        var values = 0;
        for (var sample = 0; sample < RowCount; sample++)
        {
            writer.WriteStartArray();
            for (var row = 0; row < height; row++)
            {
                writer.WriteStartArray();
                for (var column = 0; column < width; column++)
                {
                    WriteValue(writer, _predictions![values++]);
                }
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
            if (writer.BytesPending > 64 * 1024)
            {
                writer.Flush();
                await httpContext.Response.BodyWriter.FlushAsync(httpContext.RequestAborted);
            }
        }
    }

    /// <summary>A prediction as a JSON number, or null when it is not finite.</summary>
    public static void WriteValue(Utf8JsonWriter writer, double value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(PredictionResponse), ["application/json"]));
    }
}
