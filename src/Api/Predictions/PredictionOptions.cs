using System.ComponentModel.DataAnnotations;

namespace ModelService.Api.Predictions;

/// <summary>Prediction limits (section "Predictions").</summary>
internal sealed class PredictionOptions
{
    public const string Section = "Predictions";

    /// <summary>Most rows in one prediction request; more is answered with 413.</summary>
    [Range(1, 50_000_000)]
    public int MaxRows { get; set; } = 200_000;

    /// <summary>Request bodies of at least this many bytes are parsed, scored and formatted in slices on every core;
    /// smaller ones on the request's thread.</summary>
    [Range(0, int.MaxValue)]
    public int ParallelMinBytes { get; set; } = 1024 * 1024;

    /// <summary>Most threads scoring at once, across all requests (v1 and <c>/v2</c>); the core count by default.</summary>
    [Range(1, 1024)]
    public int MaxParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>Loaded models kept in memory besides the active one.</summary>
    [Range(1, 1000)]
    public int ModelCacheSize { get; set; } = 4;
}
