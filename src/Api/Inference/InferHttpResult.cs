using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using CommunityToolkit.HighPerformance.Buffers;

namespace ModelService.Api.Inference;

/// <summary>An inference answer encoded before it is sent (so that encoding counts as compute_output): JSON, or with the
/// binary tensor data extension the JSON header followed by the output's little-endian FP64 values.</summary>
internal sealed class InferHttpResult : IResult, IDisposable
{
    public const string HeaderLengthHeader = "Inference-Header-Content-Length";
    public const string BinaryContentType = "application/octet-stream";

    private readonly ArrayPoolBufferWriter<byte> _body;
    private readonly int? _headerLength;

    private InferHttpResult(ArrayPoolBufferWriter<byte> body, int? headerLength)
    {
        _body = body;
        _headerLength = headerLength;
    }

    /// <summary>Encodes <paramref name="predictions"/> (the first <paramref name="rows"/>) as output0 FP64 [rows, 1].</summary>
    public static InferHttpResult Encode(string modelName, string modelVersion, string? id, double[] predictions, int rows, bool binary)
    {
        var body = new ArrayPoolBufferWriter<byte>(binary ? 512 + (rows * sizeof(double)) : 256 + (rows * 24));
        var output = binary
            ? new OutputTensor(InferTensors.OutputName, [rows, 1], "FP64", null, new OutputParameters((long)rows * sizeof(double)))
            : new OutputTensor(InferTensors.OutputName, [rows, 1], "FP64", new ArraySegment<double>(predictions, 0, rows));
        using (var writer = new Utf8JsonWriter(body))
        {
            JsonSerializer.Serialize(writer, new InferResponse(modelName, modelVersion, id, [output]),
                InferenceJsonContext.Readable.InferResponse);
        }
        if (!binary)
        {
            return new InferHttpResult(body, null);
        }
        var headerLength = body.WrittenCount;
        var raw = body.GetSpan(rows * sizeof(double));
        for (var r = 0; r < rows; r++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(raw[(r * sizeof(double))..], predictions[r]);
        }
        body.Advance(rows * sizeof(double));
        return new InferHttpResult(body, headerLength);
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using (this)
        {
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentLength = _body.WrittenCount;
            if (_headerLength is { } length)
            {
                response.ContentType = BinaryContentType;
                response.Headers[HeaderLengthHeader] = length.ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                response.ContentType = InferenceJsonContext.ContentType;
            }
            await response.Body.WriteAsync(_body.WrittenMemory, httpContext.RequestAborted);
        }
    }

    public void Dispose() => _body.Dispose();
}
