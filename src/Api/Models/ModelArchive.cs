using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.InteropServices;
using ModelService.Api.Errors;
using ModelService.Model.Artifacts;

namespace ModelService.Api.Models;

/// <summary>A model as one file: a gzip-compressed tar holding exactly manifest.json and weights.bin, the files of
/// its folder in the store.</summary>
/// <summary>What an imported archive may hold: <paramref name="MaxBytes"/> in all (every header and data block),
/// <paramref name="MaxManifestBytes"/> of manifest and <paramref name="MaxHeaderBytes"/> of PAX and GNU long-name
/// metadata.</summary>
internal sealed record ArchiveLimits(long MaxBytes, long MaxManifestBytes, long MaxHeaderBytes);

internal static class ModelArchive
{
    public const string ContentType = "application/gzip";

    private static readonly string[] Members = [ModelArtifact.ManifestFileName, ModelArtifact.WeightsFileName];

    /// <summary>The archive of a model's stored files; the same files and time give the same bytes on every process (ustar:
    /// PAX would name its extended headers after the writing process).</summary>
    public static byte[] Create(ModelFiles files, DateTimeOffset modified)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var (member, contents) in new[] { (Members[0], files.Manifest), (Members[1], files.Weights) })
            {
                using var data = new MemoryStream(contents, writable: false);
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, member)
                {
                    DataStream = data,
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                    ModificationTime = modified,
                });
            }
        }
        return buffer.ToArray();
    }

    /// <summary>Writes the archive's two files into <paramref name="directory"/> (which must exist and be empty). Entry
    /// names are matched, never used as paths, so no entry can write outside the folder; anything else in the archive,
    /// a duplicate, or more than the limits allow is rejected. Every header is sized and counted before the tar reader
    /// sees it, because the reader holds PAX and GNU long-name blocks in memory whole.</summary>
    /// <exception cref="ApiProblemException">The archive is not a model archive (400) or exceeds a limit (413).</exception>
    public static void Extract(ReadOnlyMemory<byte> archive, string directory, ArchiveLimits limits)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var budget = limits.MaxBytes;
        try
        {
            TarHeaderScan.Check(Decompress(archive), limits);
            using var tar = new TarReader(Decompress(archive));
            while (tar.GetNextEntry() is { } entry)
            {
                var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                if (entry.EntryType is TarEntryType.Directory && name is "" or ".")
                {
                    continue;
                }
                if (!Members.Contains(name) || entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    throw Invalid($"Unexpected archive entry '{Excerpt(entry.Name)}'; a model archive holds only regular files "
                        + $"{string.Join(" and ", Members)}.");
                }
                if (!seen.Add(name))
                {
                    throw Invalid($"The archive holds '{name}' twice.");
                }
                if (name == ModelArtifact.ManifestFileName && entry.Length > limits.MaxManifestBytes)
                {
                    throw ApiProblemException.TooLarge($"The archive's {name} has {entry.Length} bytes; the limit is "
                        + $"{limits.MaxManifestBytes} bytes (Limits:MaxManifestBytes).");
                }
                budget -= entry.Length;
                if (budget < 0)
                {
                    throw TooLarge(limits);
                }
                using var target = new FileStream(Path.Combine(directory, name), FileMode.CreateNew, FileAccess.Write);
                entry.DataStream?.CopyTo(target);
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw Invalid($"The body is not a gzip-compressed tar archive: {e.Message}");
        }
        var missing = Members.Except(seen).ToList();
        if (missing.Count > 0)
        {
            throw Invalid($"The archive has no {string.Join(" or ", missing)}.");
        }
    }

    internal static ApiProblemException TooLarge(ArchiveLimits limits) =>
        ApiProblemException.TooLarge($"The archive's content (headers included) is larger than the limit of {limits.MaxBytes} bytes "
            + "(Limits:MaxRequestBodyBytes).");

    private static GZipStream Decompress(ReadOnlyMemory<byte> archive) => new(OpenRead(archive), CompressionMode.Decompress);

    private static string Excerpt(string name) => name.Length <= 100 ? name : name[..100] + "...";

    internal static ApiProblemException Invalid(string detail) => ApiProblemException.Validation("body", detail);

    /// <summary>Reads the request buffer in place rather than copying it.</summary>
    private static MemoryStream OpenRead(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetArray(memory, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(memory.ToArray(), writable: false);
}
