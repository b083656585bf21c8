using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using ModelService.Model.Data;

namespace ModelService.Api.Tests.Datasets;

/// <summary>Generated image-like samples, and .npz bytes written from NumPy's documented layout (independently of the
/// service's own writer): a zip of .npy files, each the magic, a version, a header length and a dict literal.</summary>
public static class TensorSamples
{
    /// <summary>x uniform in [0, 1); y = 3 * channel 0 - 2 * channel 1 (channel 0 alone when there is one) at every position.</summary>
    public static TensorData PerPosition(int count, int height, int width, int channels, int seed)
    {
        var x = Values(count * height * width * channels, seed);
        var y = new double[count * height * width];
        for (var p = 0; p < y.Length; p++)
        {
            y[p] = (3.0 * x[p * channels]) - (channels > 1 ? 2.0 * x[(p * channels) + 1] : 0);
        }
        return new TensorData(count, height, width, channels, x, y, perPositionTarget: true);
    }

    /// <summary>x uniform in [0, 1); y the sum of a sample's values.</summary>
    public static TensorData PerSample(int count, int height, int width, int channels, int seed)
    {
        var x = Values(count * height * width * channels, seed);
        var size = height * width * channels;
        var y = Enumerable.Range(0, count).Select(n => x.Skip(n * size).Take(size).Sum(v => (double)v)).ToArray();
        return new TensorData(count, height, width, channels, x, y, perPositionTarget: false);
    }

    private static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => (float)random.NextDouble())];
    }

    /// <summary>One .npy file: <paramref name="dict"/> is the header's dict literal, written as given.</summary>
    public static byte[] Npy(string dict, ReadOnlySpan<byte> data, byte major = 1)
    {
        var header = Encoding.ASCII.GetBytes(dict + "\n");
        var lengthBytes = major == 1 ? 2 : 4;
        var bytes = new byte[6 + 2 + lengthBytes + header.Length + data.Length];
        bytes[0] = 0x93;
        "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = major;
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)header.Length);
        }
        header.CopyTo(bytes, 8 + lengthBytes);
        data.CopyTo(bytes.AsSpan(8 + lengthBytes + header.Length));
        return bytes;
    }

    public static string Dict(string descr, params int[] shape) =>
        $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))}"
        + $"{(shape.Length == 1 ? "," : "")}), }}";

    public static byte[] Npy(float[] values, params int[] shape) => Npy(Dict("<f4", shape), MemoryMarshal.AsBytes(values.AsSpan()));

    public static byte[] Npy(double[] values, params int[] shape) => Npy(Dict("<f8", shape), MemoryMarshal.AsBytes(values.AsSpan()));

    /// <summary>A zip of the given entries, stored or deflated, with a fixed date (so the bytes do not change).</summary>
    public static byte[] Zip(bool deflate, params (string Name, byte[] Content)[] entries)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                var entry = zip.CreateEntry(name, deflate ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
                entry.LastWriteTime = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
                using var stream = entry.Open();
                stream.Write(content);
            }
        }
        return output.ToArray();
    }

    /// <summary>The .npz numpy.savez would write for <paramref name="data"/> (x float32, y float64).</summary>
    public static byte[] Npz(TensorData data, bool deflate = false) => Zip(deflate,
        ("x.npy", Npy(data.X, data.Count, data.Height, data.Width, data.Channels)),
        ("y.npy", data.PerPositionTarget ? Npy(data.Y, data.Count, data.Height, data.Width) : Npy(data.Y, data.Count)));
}
