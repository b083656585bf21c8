using System.ComponentModel.DataAnnotations;

namespace ModelService.Api.Infrastructure;

/// <summary>Request and dataset size limits (section "Limits").</summary>
internal sealed class LimitsOptions
{
    public const string Section = "Limits";

    /// <summary>Largest accepted request body; larger bodies are answered with 413.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>Most data rows in one uploaded dataset.</summary>
    [Range(1, int.MaxValue)]
    public int MaxDatasetRows { get; set; } = 2_000_000;

    /// <summary>Most columns in one uploaded dataset.</summary>
    [Range(1, 100_000)]
    public int MaxDatasetColumns { get; set; } = 1000;

    /// <summary>Largest manifest.json in an imported model archive.</summary>
    [Range(1024, int.MaxValue)]
    public int MaxManifestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Most bytes of PAX and GNU long-name metadata in an imported model archive (a model archive needs a few
    /// hundred).</summary>
    [Range(512, 16 * 1024 * 1024)]
    public int MaxArchiveHeaderBytes { get; set; } = 64 * 1024;

    /// <summary>Most tags on an imported model, and the longest key or value.</summary>
    [Range(1, 10_000)]
    public int MaxModelTags { get; set; } = 64;

    [Range(1, 1_000_000)]
    public int MaxTagLength { get; set; } = 1024;
}
