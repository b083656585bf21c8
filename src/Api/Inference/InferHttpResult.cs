using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Text.Json;
using CommunityToolkit.HighPerformance.Buffers;

namespace ModelService.Api.Inference;

/// <summary>An inference answer: JSON, or with the binary tensor data extension a JSON header followed by the output's
/// little-endian FP64 values. The JSON is encoded before the answer is sent (so that encoding counts as compute_output);
/// binary values go from the predictions straight into the response.</summary>
internal sealed class InferHttpResult : IResult, IDisposable
{
    public const string HeaderLengthHeader = "Inference-Header-Content-Length";
    public const string BinaryContentType = "application/octet-stream";

    private readonly ArrayPoolBufferWriter<byte> _json;
    private readonly double[]? _binary;
    private readonly int _rows;

    private InferHttpResult(ArrayPoolBufferWriter<byte> json, double[]? binary, int rows)
    {
        _json = json;
        _binary = binary;
        _rows = rows;
    }

    /// <summary>Encodes <paramref name="predictions"/> (the first <paramref name="rows"/>) as output0 FP64 of
    /// <paramref name="shape"/> ([rows, 1], or [N, H, W] for a per-position model). The result owns
    /// <paramref name="predictions"/>, a pooled array, and returns it when disposed.</summary>
    public static InferHttpResult Encode(string modelName, string modelVersion, string? id, double[] predictions, int rows,
        IReadOnlyList<long> shape, bool binary)
    {
        var json = new ArrayPoolBufferWriter<byte>(binary ? 512 : 256 + (rows * 24));
        var output = binary
            ? new OutputTensor(InferTensors.OutputName, shape, "FP64", null, new OutputParameters((long)rows * sizeof(double)))
            : new OutputTensor(InferTensors.OutputName, shape, "FP64", new ArraySegment<double>(predictions, 0, rows));
        try
        {
            using (var writer = new Utf8JsonWriter(json))
            {
                JsonSerializer.Serialize(writer, new InferResponse(modelName, modelVersion, id, [output]),
                    InferenceJsonContext.Readable.InferResponse);
            }
        }
        catch
        {
            json.Dispose();
            ArrayPool<double>.Shared.Return(predictions);
            throw;
        }
        if (binary)
        {
            return new InferHttpResult(json, predictions, rows);
        }
        ArrayPool<double>.Shared.Return(predictions);
        return new InferHttpResult(json, null, 0);
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using (this)
        {
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentLength = _json.WrittenCount + ((long)_rows * sizeof(double));
            if (_binary is not null)
            {
                response.ContentType = BinaryContentType;
                response.Headers[HeaderLengthHeader] = _json.WrittenCount.ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                response.ContentType = InferenceJsonContext.ContentType;
            }
            var body = response.BodyWriter;
            body.Write(_json.WrittenSpan);
            if (_binary is not null)
            {
                WriteLittleEndian(body, _binary.AsSpan(0, _rows));
            }
            await body.FlushAsync(httpContext.RequestAborted);
        }
    }

    public void Dispose()
    {
        _json.Dispose();
        if (_binary is not null)
        {
            ArrayPool<double>.Shared.Return(_binary);
        }
    }

    private static void WriteLittleEndian(PipeWriter body, ReadOnlySpan<double> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            body.Write(MemoryMarshal.AsBytes(values));
            return;
        }
        foreach (var value in values)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(body.GetSpan(sizeof(double)), value);
            body.Advance(sizeof(double));
        }
    }
}
