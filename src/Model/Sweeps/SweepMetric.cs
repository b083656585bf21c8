using System.Text.Json.Serialization;
using ModelService.Model.Serialization;
using ModelService.Model.Training;

namespace ModelService.Model.Sweeps;

/// <summary>The validation metric that ranks a sweep's trials (lower is better), in the target's units.</summary>
[JsonConverter(typeof(WireEnumConverter<SweepMetric>))]
public enum SweepMetric
{
    /// <summary>Root mean squared error.</summary>
    [JsonStringEnumMemberName("rmse")]
    Rmse,

    /// <summary>Mean absolute error.</summary>
    [JsonStringEnumMemberName("mae")]
    Mae,
}

/// <summary>The wire names of <see cref="SweepMetric"/> ("rmse", "mae", read from its attributes by
/// <see cref="WireNames"/>) and the value each picks from a model's metrics.</summary>
public static class SweepMetricNames
{
    /// <summary>Every wire name, in declaration order.</summary>
    public static IReadOnlyList<string> All => WireNames.All<SweepMetric>();

    /// <summary>The wire name of <paramref name="metric"/>.</summary>
    public static string ToWireName(SweepMetric metric) => WireNames.Of(metric);

    /// <summary>Parses a wire name (exact, lower case).</summary>
    public static bool TryParse(string? name, out SweepMetric metric) => WireNames.TryParse(name, out metric);

    /// <summary>The value of <paramref name="metric"/> in <paramref name="metrics"/>.</summary>
    public static double Of(this SweepMetric metric, RegressionMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return metric switch
        {
            SweepMetric.Rmse => metrics.Rmse,
            SweepMetric.Mae => metrics.Mae,
            _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric."),
        };
    }
}
