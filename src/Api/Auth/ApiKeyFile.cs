using System.Security.Cryptography;
using System.Text;

namespace ModelService.Api.Auth;

/// <summary>The API key a service outside Development generates for itself when none is configured: 32 random bytes,
/// base64url, in <c>{Storage:Root}/api-key</c>, readable by the service's user only.</summary>
internal static class ApiKeyFile
{
    public const string FileName = "api-key";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public sealed record Stored(string Path, string Key, bool Created);

    /// <summary>Reads the stored key, or creates it: written under a hidden name with owner-only permissions, flushed,
    /// then renamed into place, so a crash never leaves a partial key (hidden files are removed at start-up).</summary>
    public static Stored LoadOrCreate(string root)
    {
        Directory.CreateDirectory(root);
        var path = Path.Combine(root, FileName);
        if (Read(path) is { } existing)
        {
            return new Stored(path, existing, Created: false);
        }
        var key = Base64Url(RandomNumberGenerator.GetBytes(32));
        var temporary = Path.Combine(root, $".{FileName}-{Guid.NewGuid():N}");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }
        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(Encoding.ASCII.GetBytes(key + "\n"));
            stream.Flush(flushToDisk: true);
        }
        try
        {
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (Read(path) is not null)
        {
            // Another process sharing the storage created it first; use theirs.
            File.Delete(temporary);
            return new Stored(path, Read(path)!, Created: false);
        }
        return new Stored(path, key, Created: true);
    }

    private static string? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & ~OwnerOnly) != 0)
        {
            File.SetUnixFileMode(path, OwnerOnly);
        }
        var key = File.ReadAllText(path).Trim();
        return key.Length >= 16 ? key : throw new InvalidOperationException(
            $"The API key file {path} holds fewer than 16 characters; delete it to have a new key generated, or set Auth:ApiKeys.");
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
