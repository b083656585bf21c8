using System.Buffers.Binary;
using System.Security.Cryptography;

namespace ModelService.Model.Artifacts;

/// <summary>weights.bin: the manifest's tensors in order, each as row-major little-endian float32 values, no header.</summary>
internal static class WeightsFile
{
    public static byte[] Serialize(IReadOnlyList<NamedTensorData> weights)
    {
        var bytes = new byte[weights.Sum(w => (long)w.Values.Length) * sizeof(float)];
        var offset = 0;
        foreach (var tensor in weights)
        {
            foreach (var value in tensor.Values)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(offset), value);
                offset += sizeof(float);
            }
        }
        return bytes;
    }

    /// <exception cref="InvalidDataException">The byte count does not match the tensor list.</exception>
    public static NamedTensorData[] Deserialize(ReadOnlySpan<byte> bytes, IReadOnlyList<TensorEntry> entries)
    {
        if (entries is null || entries.Any(e => e?.Shape is null || e.Shape.Any(d => d < 0)))
        {
            throw new InvalidDataException("The manifest's tensor list is missing or has an entry without a valid shape.");
        }
        var expected = entries.Sum(e => e.Shape.Aggregate(1L, (a, b) => a * b)) * sizeof(float);
        if (bytes.Length != expected)
        {
            throw new InvalidDataException($"weights.bin holds {bytes.Length} bytes but the manifest's tensors need {expected}.");
        }
        var result = new NamedTensorData[entries.Count];
        var offset = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            var values = new float[entries[i].Shape.Aggregate(1, (a, b) => a * b)];
            for (var v = 0; v < values.Length; v++)
            {
                values[v] = BinaryPrimitives.ReadSingleLittleEndian(bytes[offset..]);
                offset += sizeof(float);
            }
            result[i] = new NamedTensorData(entries[i].Name, entries[i].Shape.ToArray(), values);
        }
        return result;
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string Sha256(IReadOnlyList<NamedTensorData> weights) => Sha256(Serialize(weights));
}
