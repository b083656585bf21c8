using System.ComponentModel.DataAnnotations;

namespace ModelService.Api.Storage;

/// <summary>Where datasets, models and the job database live (section "Storage").</summary>
internal sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Where everything durable lives: <see cref="StorageProvider.Local"/> (SQLite and files under
    /// <see cref="Root"/>, one process) or <see cref="StorageProvider.Postgres"/> (ConnectionStrings:Postgres, shared by
    /// any number of processes; <see cref="Root"/> then holds only scratch files).</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Local;

    /// <summary>Root folder; relative paths are resolved against the content root.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Root { get; set; } = "data";

    /// <summary>The bundled model installed into an empty store; relative paths are resolved against the app folder.</summary>
    [Required(AllowEmptyStrings = false)]
    public string DefaultModelPath { get; set; } = "DefaultModel";
}

internal enum StorageProvider
{
    Local,
    Postgres,
}
