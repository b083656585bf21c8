using System.ComponentModel.DataAnnotations;

namespace ModelService.Api.Sweeps;

/// <summary>Sweep limits (section "Sweeps"), checked before a sweep is queued; each trial also meets the Training limits.
/// A sweep holds every run (trial x fold) in memory at once, so its working set, counted as for a job over all runs,
/// must stay within Training:MaxWorkingSetBytes.</summary>
internal sealed class SweepOptions
{
    public const string Section = "Sweeps";

    [Range(1, 10_000)]
    public int MaxTrials { get; set; } = 64;

    [Range(2, SweepRequest.MaxFolds)]
    public int MaxFolds { get; set; } = 10;

    /// <summary>The parameters of every run (trial x fold) added up: what the stacked computation holds.</summary>
    [Range(1, long.MaxValue)]
    public long MaxTotalParameters { get; set; } = 5_000_000;

    /// <summary>The epochs of every run added up: bounds the work and the loss histories kept.</summary>
    [Range(1, long.MaxValue)]
    public long MaxTotalEpochs { get; set; } = 100_000;
}
