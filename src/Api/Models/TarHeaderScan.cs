using System.Buffers;
using System.Globalization;
using System.Text;

namespace ModelService.Api.Models;

/// <summary>Walks a tar stream block by block, reading nothing but headers into memory, and refuses it as soon as the
/// bytes it declares (headers, PAX and GNU long-name blocks, file data) pass the limits. Layout: POSIX ustar, a
/// 512-byte header per entry with the size as octal text (or GNU base-256) at offset 124, the checksum at 148 and the
/// type at 156; data padded to 512 bytes; two zero blocks at the end.</summary>
internal static class TarHeaderScan
{
    private const int Block = 512;

    public static void Check(Stream tar, ArchiveLimits limits)
    {
        using (tar)
        {
            var header = new byte[Block];
            long total = 0, metadata = 0;
            long? paxSize = null;
            while (ReadBlock(tar, header))
            {
                if (!header.AsSpan().ContainsAnyExcept((byte)0))
                {
                    return;
                }
                if (!ChecksumMatches(header) || ParseNumber(header.AsSpan(124, 12)) is not { } declared)
                {
                    throw ModelArchive.Invalid($"The archive has a damaged tar header at byte {total}.");
                }
                var type = (char)header[156];
                var isMetadata = type is 'x' or 'g' or 'L' or 'K';
                var size = isMetadata ? declared : paxSize ?? declared;
                paxSize = null;
                total += Block + Padded(size);
                if (total > limits.MaxBytes)
                {
                    throw ModelArchive.TooLarge(limits);
                }
                if (!isMetadata)
                {
                    Skip(tar, Padded(size));
                    continue;
                }
                metadata += size;
                if (metadata > limits.MaxHeaderBytes)
                {
                    throw Errors.ApiProblemException.TooLarge(
                        $"The archive's PAX and long-name headers hold more than {limits.MaxHeaderBytes} bytes (Limits:MaxArchiveHeaderBytes).");
                }
                var data = new byte[Padded(size)];
                if (tar.ReadAtLeast(data, data.Length, throwOnEndOfStream: false) < data.Length)
                {
                    return;
                }
                if (type == 'x')
                {
                    paxSize = PaxSize(data.AsSpan(0, (int)size));
                }
            }
        }
    }

    private static long Padded(long size) => (size + Block - 1) / Block * Block;

    private static bool ReadBlock(Stream tar, byte[] block) => tar.ReadAtLeast(block, Block, throwOnEndOfStream: false) == Block;

    private static void Skip(Stream tar, long count)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (count > 0)
            {
                var read = tar.Read(buffer, 0, (int)Math.Min(count, buffer.Length));
                if (read == 0)
                {
                    return;
                }
                count -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The header's bytes summed with the checksum field read as spaces, against the octal checksum.</summary>
    private static bool ChecksumMatches(byte[] header)
    {
        long sum = 0;
        for (var i = 0; i < Block; i++)
        {
            sum += i is >= 148 and < 156 ? (byte)' ' : header[i];
        }
        return ParseNumber(header.AsSpan(148, 8)) == sum;
    }

    /// <summary>Octal digits padded with spaces or NULs, or GNU base-256 (high bit of the first byte set).</summary>
    private static long? ParseNumber(ReadOnlySpan<byte> field)
    {
        if ((field[0] & 0x80) != 0)
        {
            if ((field[0] & 0x40) != 0 || field[1..^8].ContainsAnyExcept((byte)0))
            {
                return null;
            }
            var value = 0L;
            foreach (var b in field[^8..])
            {
                value = (value << 8) | b;
            }
            return value < 0 ? null : value;
        }
        var text = Encoding.ASCII.GetString(field).Trim(' ', '\0');
        return text.Length == 0 ? 0
            : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _) && text.All(c => c is >= '0' and <= '7')
                ? Convert.ToInt64(text, 8) : null;
    }

    /// <summary>The "size" record of a PAX extended header ("%d size=%d\n" among others), which overrides the next
    /// entry's header field.</summary>
    private static long? PaxSize(ReadOnlySpan<byte> records)
    {
        foreach (var line in Encoding.UTF8.GetString(records).Split('\n'))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && line.AsSpan(space + 1).StartsWith("size=", StringComparison.Ordinal)
                && long.TryParse(line.AsSpan(space + 6), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                return size;
            }
        }
        return null;
    }
}
