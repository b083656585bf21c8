using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using ModelService.Api.Errors;
using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>
/// A tensor dataset as a NumPy <c>.npz</c> archive: a zip holding <c>x.npy</c> ([N, H, W, C]) and <c>y.npy</c> ([N] or
/// [N, H, W]), stored or deflated, as <c>numpy.savez(file, x=x, y=y)</c> and <c>savez_compressed</c> write it. Reading is
/// strict and bounded: the zip directory is checked before System.IO.Compression reads it, each array's size comes from
/// its header and is checked against the element limit before anything is allocated, and an entry is never inflated
/// past the size its header promises.
/// </summary>
internal static class NpzArchive
{
    public const string XEntry = "x.npy";
    public const string YEntry = "y.npy";

    /// <summary>More entries than this, or a larger zip directory, is refused before the directory is read.</summary>
    private const int MaxEntries = 16;
    private const int MaxDirectoryBytes = 64 * 1024;
    private const int EndRecordBytes = 22;

    /// <summary>Reads a dataset whole (see <see cref="Open"/>).</summary>
    public static TensorData Read(Stream archive, long maxElements, string limitName)
    {
        using var reader = Open(archive, maxElements, limitName);
        return reader.ReadValues();
    }

    /// <summary>Reads the archive's directory and both headers, and checks the shapes and sizes, without reading a value.
    /// Bad content is a 400 naming the array ("x", "y") or the body; an array with more than <paramref name="maxElements"/>
    /// values is a 413 naming <paramref name="limitName"/>.</summary>
    public static Reader Open(Stream archive, long maxElements, string limitName)
    {
        CheckDirectory(archive);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(archive, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw NotAnArchive(e.Message);
        }
        try
        {
            return new Reader(zip, maxElements, limitName);
        }
        catch (InvalidDataException e)
        {
            zip.Dispose();
            throw NotAnArchive(e.Message);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    /// <summary>An archive whose headers have been checked; <see cref="ValueBytes"/> says what its values will cost.</summary>
    public sealed class Reader : IDisposable
    {
        private readonly ZipArchive _zip;
        private readonly ZipArchiveEntry _xEntry;
        private readonly ZipArchiveEntry _yEntry;
        private readonly NpyHeader _x;
        private readonly NpyHeader _y;
        private readonly (int Count, int Height, int Width, bool PerPosition) _shape;

        internal Reader(ZipArchive zip, long maxElements, string limitName)
        {
            _zip = zip;
            (_xEntry, _yEntry) = Entries(zip);
            _x = ReadHeader(_xEntry, "x", maxElements, limitName);
            _y = ReadHeader(_yEntry, "y", maxElements, limitName);
            _shape = CheckShapes(_x.Shape, _y.Shape);
        }

        /// <summary>Bytes the values take in memory: 4 per value of x, 8 per value of y.</summary>
        public long ValueBytes => (_x.Elements * sizeof(float)) + (_y.Elements * sizeof(double));

        public TensorData ReadValues()
        {
            try
            {
                var x = ReadFloats(_xEntry, _x, "x");
                var y = ReadDoubles(_yEntry, _y, "y");
                return TensorValues.Create(_shape.Count, _shape.Height, _shape.Width, (int)_x.Shape[3], x, y, _shape.PerPosition);
            }
            catch (InvalidDataException e)
            {
                throw NotAnArchive(e.Message);
            }
        }

        public void Dispose() => _zip.Dispose();
    }

    /// <summary>The normalised form every store keeps: x as float32, y as float64, both stored (not deflated), fixed
    /// timestamps, so that equal data always has equal bytes (and SHA-256).</summary>
    public static void Write(TensorData data, Stream output)
    {
        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        WriteEntry(zip, XEntry, NpyHeader.Write(false, [data.Count, .. data.Shape]), MemoryMarshal.AsBytes(data.X.AsSpan()));
        WriteEntry(zip, YEntry, NpyHeader.Write(true, [data.Count, .. data.TargetShape]), MemoryMarshal.AsBytes(data.Y.AsSpan()));
    }

    private static void WriteEntry(ZipArchive zip, string name, byte[] header, ReadOnlySpan<byte> data)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
        entry.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var stream = entry.Open();
        stream.Write(header);
        stream.Write(data);
    }

    private static (ZipArchiveEntry X, ZipArchiveEntry Y) Entries(ZipArchive zip)
    {
        ZipArchiveEntry? xEntry = null, yEntry = null;
        foreach (var entry in zip.Entries)
        {
            switch (entry.FullName)
            {
                case XEntry when xEntry is null:
                    xEntry = entry;
                    break;
                case YEntry when yEntry is null:
                    yEntry = entry;
                    break;
                default:
                    throw ApiProblemException.Validation("body",
                        $"The archive holds an unexpected or repeated entry '{entry.FullName}'; an .npz dataset holds {XEntry} and {YEntry}.");
            }
        }
        if (xEntry is null || yEntry is null)
        {
            var missing = xEntry is null ? "x" : "y";
            throw ApiProblemException.Validation(missing, $"The archive has no '{missing}.npy'; an .npz dataset holds {XEntry} and {YEntry}.");
        }
        return (xEntry, yEntry);
    }

    private static NpyHeader ReadHeader(ZipArchiveEntry entry, string array, long maxElements, string limitName)
    {
        NpyHeader header;
        using (var stream = entry.Open())
        {
            header = NpyHeader.Read(stream, array);
        }
        var elements = header.Elements;
        if (elements > maxElements)
        {
            throw ApiProblemException.TooLarge(
                $"Array '{array}' has {(elements == long.MaxValue ? "too many" : elements.ToString(System.Globalization.CultureInfo.InvariantCulture))} "
                + $"values; at most {maxElements} are allowed ({limitName}).");
        }
        if (entry.Length != header.Length + (elements * header.ItemSize))
        {
            throw NpyHeader.Invalid(array, $"holds {entry.Length - header.Length} data bytes; its header's shape "
                + $"({string.Join(", ", header.Shape)}) needs {elements * header.ItemSize}");
        }
        return header;
    }

    /// <summary>x must be [N, H, W, C] and y [N] or [N, H, W], every dimension at least 1.</summary>
    private static (int Count, int Height, int Width, bool PerPosition) CheckShapes(IReadOnlyList<long> x, IReadOnlyList<long> y)
    {
        if (x.Count != 4)
        {
            throw NpyHeader.Invalid("x", $"has shape ({string.Join(", ", x)}); x must be [N, H, W, C]");
        }
        if (x.Any(d => d < 1 || d > int.MaxValue))
        {
            throw NpyHeader.Invalid("x", $"has shape ({string.Join(", ", x)}); every dimension must be at least 1");
        }
        var perPosition = y.Count == 3;
        if (y.Count is not (1 or 3) || y[0] != x[0] || (perPosition && (y[1] != x[1] || y[2] != x[2])))
        {
            throw NpyHeader.Invalid("y", $"has shape ({string.Join(", ", y)}); with x of shape ({string.Join(", ", x)}) y must be "
                + $"[{x[0]}] (a value per sample) or [{x[0]}, {x[1]}, {x[2]}] (a value per position)");
        }
        return ((int)x[0], (int)x[1], (int)x[2], perPosition);
    }

    private static float[] ReadFloats(ZipArchiveEntry entry, NpyHeader header, string array)
    {
        var values = GC.AllocateUninitializedArray<float>(checked((int)header.Elements));
        using var stream = OpenData(entry, header, array);
        if (!header.IsFloat64)
        {
            ReadExactly(stream, MemoryMarshal.AsBytes(values.AsSpan()), array);
        }
        else
        {
            var buffer = new double[Math.Min(values.Length, 64 * 1024)];
            for (var at = 0; at < values.Length; at += buffer.Length)
            {
                var chunk = buffer.AsSpan(0, Math.Min(buffer.Length, values.Length - at));
                ReadExactly(stream, MemoryMarshal.AsBytes(chunk), array);
                for (var i = 0; i < chunk.Length; i++)
                {
                    values[at + i] = (float)chunk[i];
                }
            }
        }
        EnsureEnd(stream, array);
        return values;
    }

    private static double[] ReadDoubles(ZipArchiveEntry entry, NpyHeader header, string array)
    {
        var values = GC.AllocateUninitializedArray<double>(checked((int)header.Elements));
        using var stream = OpenData(entry, header, array);
        if (header.IsFloat64)
        {
            ReadExactly(stream, MemoryMarshal.AsBytes(values.AsSpan()), array);
        }
        else
        {
            var buffer = new float[Math.Min(values.Length, 64 * 1024)];
            for (var at = 0; at < values.Length; at += buffer.Length)
            {
                var chunk = buffer.AsSpan(0, Math.Min(buffer.Length, values.Length - at));
                ReadExactly(stream, MemoryMarshal.AsBytes(chunk), array);
                for (var i = 0; i < chunk.Length; i++)
                {
                    values[at + i] = chunk[i];
                }
            }
        }
        EnsureEnd(stream, array);
        return values;
    }

    private static Stream OpenData(ZipArchiveEntry entry, NpyHeader header, string array)
    {
        var stream = entry.Open();
        Span<byte> skip = stackalloc byte[256];
        for (var left = header.Length; left > 0;)
        {
            var read = stream.Read(skip[..Math.Min(left, skip.Length)]);
            if (read == 0)
            {
                stream.Dispose();
                throw NpyHeader.Invalid(array, "ends inside its header");
            }
            left -= read;
        }
        return stream;
    }

    private static void ReadExactly(Stream stream, Span<byte> into, string array)
    {
        if (stream.ReadAtLeast(into, into.Length, throwOnEndOfStream: false) < into.Length)
        {
            throw NpyHeader.Invalid(array, "ends before the values its header's shape promises");
        }
    }

    /// <summary>An entry that inflates past its header's size is refused after one more byte, never inflated further.</summary>
    private static void EnsureEnd(Stream stream, string array)
    {
        Span<byte> one = stackalloc byte[1];
        if (stream.Read(one) != 0)
        {
            throw NpyHeader.Invalid(array, "holds more bytes than its header's shape promises");
        }
    }

    /// <summary>Reads the end-of-central-directory record (found as System.IO.Compression finds it: the last signature in
    /// the final 64 KiB + 22 bytes) and refuses an archive whose directory could cost more than a few entries to read.</summary>
    private static void CheckDirectory(Stream archive)
    {
        var length = archive.Length;
        if (length < EndRecordBytes)
        {
            throw NotAnArchive("it is too short to be a zip archive");
        }
        var tail = (int)Math.Min(length, EndRecordBytes + ushort.MaxValue);
        var bytes = new byte[tail];
        archive.Position = length - tail;
        archive.ReadExactly(bytes);
        archive.Position = 0;
        for (var at = tail - EndRecordBytes; at >= 0; at--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at)) != 0x06054b50)
            {
                continue;
            }
            var entries = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 10));
            var directoryStart = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 16));
            var directoryEnd = length - tail + at;
            if (entries > MaxEntries || directoryStart > directoryEnd || directoryEnd - directoryStart > MaxDirectoryBytes)
            {
                throw ApiProblemException.Validation("body",
                    $"The archive's directory lists {entries} entries over {Math.Max(0, directoryEnd - directoryStart)} bytes (or is Zip64); "
                    + $"an .npz dataset holds {XEntry} and {YEntry}.");
            }
            return;
        }
        throw NotAnArchive("it has no zip end-of-directory record");
    }

    private static ApiProblemException NotAnArchive(string why) =>
        ApiProblemException.Validation("body", $"The body is not a valid .npz (zip) archive: {why.TrimEnd('.')}.");
}
