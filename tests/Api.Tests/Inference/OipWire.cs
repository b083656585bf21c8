using System.Buffers.Binary;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ModelService.Api.Tests.Inference;

/// <summary>Bodies built the way the protocol's clients build them, from the binary tensor data extension's documented
/// layout: the JSON header, then each binary input's raw little-endian bytes, with Inference-Header-Content-Length
/// giving the header's byte count.</summary>
public static class OipWire
{
    public const string HeaderLength = "Inference-Header-Content-Length";

    /// <summary>A binary FP32 or FP64 request for <paramref name="rows"/> (row-major [N, F]); <paramref name="contentType"/>
    /// null sends no Content-Type, as Triton's Python client does.</summary>
    public static ByteArrayContent BinaryRequest(double[][] rows, string datatype, string? contentType, string parameters = "",
        string outputs = "")
    {
        var width = rows[0].Length;
        var size = datatype == "FP32" ? 4 : 8;
        var raw = new byte[rows.Length * width * size];
        for (var i = 0; i < rows.Length * width; i++)
        {
            var value = rows[i / width][i % width];
            if (size == 4)
            {
                BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), (float)value);
            }
            else
            {
                BinaryPrimitives.WriteDoubleLittleEndian(raw.AsSpan(i * 8), value);
            }
        }
        var header = $$$"""{"inputs":[{"name":"input0","shape":[{{{rows.Length}}},{{{width}}}],"datatype":"{{{datatype}}}","parameters":{"binary_data_size":{{{raw.Length}}}}}]{{{parameters}}}{{{outputs}}}}""";
        return Binary(header, raw, contentType);
    }

    /// <summary>A BYTES element list in the extension's form: each element's 4-byte little-endian length, then its bytes.</summary>
    public static byte[] BytesTensor(params string[] elements)
    {
        using var stream = new MemoryStream();
        foreach (var element in elements)
        {
            var bytes = Encoding.UTF8.GetBytes(element);
            var length = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            stream.Write(length);
            stream.Write(bytes);
        }
        return stream.ToArray();
    }

    /// <summary>The JSON <paramref name="header"/> followed by <paramref name="raw"/>, with the header length header.</summary>
    public static ByteArrayContent Binary(string header, byte[] raw, string? contentType)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var content = new ByteArrayContent([.. json, .. raw]);
        content.Headers.Add(HeaderLength, json.Length.ToString(CultureInfo.InvariantCulture));
        if (contentType is not null)
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        return content;
    }

    /// <summary>Splits a binary response at its Inference-Header-Content-Length: the JSON header and the bytes after it.</summary>
    public static async Task<(JsonElement Header, byte[] Raw)> ReadBinaryAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.Headers.TryGetValues(HeaderLength, out var values), $"No {HeaderLength} header: {Encoding.UTF8.GetString(body)}");
        var length = int.Parse(values.Single(), CultureInfo.InvariantCulture);
        using var header = JsonDocument.Parse(body.AsMemory(0, length));
        return (header.RootElement.Clone(), body[length..]);
    }

    public static double[] Doubles(byte[] raw) =>
        [.. Enumerable.Range(0, raw.Length / 8).Select(i => BinaryPrimitives.ReadDoubleLittleEndian(raw.AsSpan(i * 8)))];
}
