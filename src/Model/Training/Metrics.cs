namespace ModelService.Model.Training;

/// <summary>Regression metrics in the target's units.</summary>
internal static class Metrics
{
    public static RegressionMetrics Compute(IReadOnlyList<double> predictions, IReadOnlyList<double> targets)
    {
        if (predictions.Count != targets.Count || targets.Count == 0)
        {
            throw new ArgumentException("Metrics need equally many predictions and targets, at least one.");
        }
        double squared = 0, absolute = 0, mean = targets.Average(), total = 0;
        for (var i = 0; i < targets.Count; i++)
        {
            var error = predictions[i] - targets[i];
            squared += error * error;
            absolute += Math.Abs(error);
            total += (targets[i] - mean) * (targets[i] - mean);
        }
        // A constant target has no variance to explain: R² is 1 for a perfect fit and 0 otherwise.
        var r2 = total > 0 ? 1 - (squared / total) : squared == 0 ? 1 : 0;
        return new RegressionMetrics(Math.Sqrt(squared / targets.Count), absolute / targets.Count, r2);
    }
}
