using Microsoft.Extensions.Options;

namespace ModelService.Api.Storage;

/// <summary>The resolved folders and files under <see cref="StorageOptions.Root"/>.</summary>
internal sealed class StoragePaths
{
    public StoragePaths(IOptions<StorageOptions> options, IHostEnvironment environment)
    {
        Root = Path.GetFullPath(Path.Combine(environment.ContentRootPath, options.Value.Root));
        Datasets = Path.Combine(Root, "datasets");
        Models = Path.Combine(Root, "models");
        ActiveModelPointer = Path.Combine(Root, "active-model");
        JobsDatabase = Path.Combine(Root, "jobs.db");
        DefaultModel = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, options.Value.DefaultModelPath));
        Directory.CreateDirectory(Datasets);
        Directory.CreateDirectory(Models);
        RemoveLeftovers();
    }

    public string Root { get; }

    public string Datasets { get; }

    public string Models { get; }

    public string ActiveModelPointer { get; }

    public string JobsDatabase { get; }

    public string DefaultModel { get; }

    /// <summary>Every write goes through a hidden temporary name (a leading dot) before its final rename; whatever is
    /// still hidden when the service starts was interrupted and is never read, so it is removed.</summary>
    private void RemoveLeftovers()
    {
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
