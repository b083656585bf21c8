using System.Text;

namespace ModelService.Api.Storage;

/// <summary>Writes whose result is either the old file or the complete new one, never a torn mix.</summary>
internal static class AtomicFile
{
    public static void WriteAllText(string path, string contents) => WriteAllBytes(path, Encoding.UTF8.GetBytes(contents));

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> contents)
    {
        var temp = TempPathFor(path);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>A unique hidden sibling of <paramref name="path"/>; listings skip names that start with a dot.</summary>
    public static string TempPathFor(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, $".tmp-{Path.GetFileName(path)}-{Guid.NewGuid():N}");

    /// <summary>Removes a folder so that it disappears from listings at once, even if deleting its files fails.</summary>
    public static void DeleteDirectory(string directory)
    {
        var doomed = Path.Combine(Path.GetDirectoryName(directory)!, $".deleted-{Path.GetFileName(directory)}-{Guid.NewGuid():N}");
        Directory.Move(directory, doomed);
        Directory.Delete(doomed, recursive: true);
    }
}
