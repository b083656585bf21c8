using System.Buffers;
using System.Reflection;
using System.Text.Json;
using CommunityToolkit.HighPerformance.Buffers;
using Microsoft.AspNetCore.Http.Metadata;

namespace ModelService.Api.Predictions;

/// <summary>Writes <c>{"modelId": "...", "predictions": [...]}</c> with a <see cref="Utf8JsonWriter"/> straight into
/// the response, flushing as it goes, and returns the pooled buffers: either predictions to format, or predictions
/// already formatted per slice by <see cref="SlicedScoring"/>.</summary>
internal sealed class PredictionsResult : IResult, IEndpointMetadataProvider
{
    private const int RowsPerFlush = 16_384;

    private readonly string _modelId;
    private readonly double[]? _predictions;
    private readonly ArrayPoolBufferWriter<byte>[]? _slices;

    public PredictionsResult(string modelId, double[] predictions, int count)
    {
        _modelId = modelId;
        _predictions = predictions;
        RowCount = count;
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
            if (_slices is null)
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
