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
}
