using System.Buffers;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;

namespace ModelService.Api.Predictions;

/// <summary>Writes <c>{"modelId": "...", "predictions": [...]}</c> with a <see cref="Utf8JsonWriter"/> straight into
/// the response, flushing as it goes, and returns the pooled prediction buffer.</summary>
internal sealed class PredictionsResult(string modelId, double[] predictions, int count) : IResult, IEndpointMetadataProvider
{
    private const int RowsPerFlush = 16_384;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        try
        {
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json; charset=utf-8";
            await using var writer = new Utf8JsonWriter(response.BodyWriter);
            writer.WriteStartObject();
            writer.WriteString("modelId", modelId);
            writer.WriteStartArray("predictions");
            for (var i = 0; i < count; i++)
            {
                WriteValue(writer, predictions[i]);
                if (i % RowsPerFlush == RowsPerFlush - 1)
                {
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
            ArrayPool<double>.Shared.Return(predictions);
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
