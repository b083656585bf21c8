using Microsoft.Extensions.Options;

namespace ModelService.Api.Infrastructure;

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
    }

    public string Root { get; }

    public string Datasets { get; }

    public string Models { get; }

    public string ActiveModelPointer { get; }

    public string JobsDatabase { get; }

    public string DefaultModel { get; }
}
