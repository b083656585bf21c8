using Microsoft.Extensions.Options;

namespace ModelService.Api.Storage;

/// <summary>The resolved folders and files under <see cref="StorageOptions.Root"/>; <see cref="Initialize"/> prepares
/// them at start-up.</summary>
internal sealed class StoragePaths(IOptions<StorageOptions> options, IHostEnvironment environment)
{
    public string Root { get; } = Path.GetFullPath(Path.Combine(environment.ContentRootPath, options.Value.Root));

    public string Datasets => Path.Combine(Root, "datasets");

    public string Models => Path.Combine(Root, "models");

    public string ActiveModelPointer => Path.Combine(Root, "active-model");

    public string JobsDatabase => Path.Combine(Root, "jobs.db");

    public string DefaultModel { get; } = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, options.Value.DefaultModelPath));

    /// <summary>Creates the folders and removes what interrupted writes left. Every write goes through a hidden temporary
    /// name (a leading dot) before its final rename; whatever is still hidden when the service starts was interrupted and
    /// is never read.</summary>
    public void Initialize()
    {
        Directory.CreateDirectory(Datasets);
        Directory.CreateDirectory(Models);
        foreach (var folder in new[] { Datasets, Models })
        {
            foreach (var leftover in Directory.EnumerateDirectories(folder, ".*"))
            {
                Directory.Delete(leftover, recursive: true);
            }
        }
        foreach (var leftover in Directory.EnumerateFiles(Root, ".*"))
        {
            File.Delete(leftover);
        }
    }
}
