using TorchSharp;
using static TorchSharp.torch;

namespace ModelService.Model.Training.Batched;

/// <summary>
/// <see cref="FlatOptimizer"/>'s update rules on a [K, P] parameter, one row per trial, with each trial's own learning
/// rate (times its schedule's factor at the step) and weight decay as [K, 1] columns and its own moments. Every trial of a
/// stack takes the same number of steps, so Adam's bias corrections are shared; a trial's schedule runs over its own
/// total steps (its own epochs). Scalars are fields or <c>using</c> locals for the reason given on
/// <see cref="FlatOptimizer"/>.
/// </summary>
internal sealed class StackedOptimizer : IDisposable
{
    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double Epsilon = 1e-8;

    private readonly OptimizerKind _kind;
    private readonly double[] _learningRates;
    private readonly LearningRateSchedule[] _schedules;
    private readonly long[] _totalSteps;
    private readonly double[] _weightDecays;
    private readonly bool _decays;
    private readonly Tensor _weightDecay;
    private readonly Tensor? _firstMoment;
    private readonly Tensor? _secondMoment;
    private readonly float[] _minusStepSizes;
    private readonly Scalar _beta1 = Beta1.ToScalar();
    private readonly Scalar _oneMinusBeta1 = (1 - Beta1).ToScalar();
    private readonly Scalar _beta2 = Beta2.ToScalar();
    private readonly Scalar _oneMinusBeta2 = (1 - Beta2).ToScalar();
    private readonly Scalar _epsilon = Epsilon.ToScalar();
    private readonly Scalar _one = 1.0.ToScalar();
    private long _steps;

    /// <summary>An optimiser whose state starts at zero, for trials whose options are <paramref name="options"/> and whose
    /// runs take <paramref name="totalSteps"/> steps each (the schedules' lengths).</summary>
    public StackedOptimizer(OptimizerKind kind, IReadOnlyList<TrainingOptions> options, IReadOnlyList<long> totalSteps, long parameters)
        : this(kind, options.Select(o => o.LearningRate).ToArray(), options.Select(o => o.LearningRateSchedule).ToArray(), [.. totalSteps],
            options.Select(o => o.WeightDecay).ToArray(), parameters, 0, null, null)
    {
    }

    private StackedOptimizer(
        OptimizerKind kind, double[] learningRates, LearningRateSchedule[] schedules, long[] totalSteps, double[] weightDecays,
        long parameters, long steps, Tensor? firstMoment, Tensor? secondMoment)
    {
        _kind = kind;
        _learningRates = learningRates;
        _schedules = schedules;
        _totalSteps = totalSteps;
        _weightDecays = weightDecays;
        _decays = _weightDecays.Any(d => d != 0);
        _steps = steps;
        var trials = _learningRates.Length;
        _weightDecay = Column(_weightDecays);
        _minusStepSizes = new float[trials];
        if (kind is OptimizerKind.Adam or OptimizerKind.AdamW)
        {
            _firstMoment = firstMoment ?? zeros(trials, parameters);
            _secondMoment = secondMoment ?? zeros(trials, parameters);
        }
    }

    /// <summary>Applies one update to <paramref name="parameter"/> [K, P] from <paramref name="gradient"/> [K, P].</summary>
    public void Step(Tensor parameter, Tensor gradient)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        // The products are formed in double and rounded once, as FlatOptimizer's scalars are.
        var learningRates = new double[_learningRates.Length];
        for (var k = 0; k < learningRates.Length; k++)
        {
            learningRates[k] = _learningRates[k] * _schedules[k].Factor(_steps, _totalSteps[k]);
        }
        _steps++;
        if (_kind == OptimizerKind.Sgd)
        {
            if (_decays)
            {
                gradient = gradient.addcmul(parameter, _weightDecay, _one);
            }
            parameter.addcmul_(gradient, Column(learningRates.Select(r => -r)), _one);
            return;
        }

        if (_decays)
        {
            if (_kind == OptimizerKind.AdamW)
            {
                parameter.mul_(Column(learningRates.Zip(_weightDecays, (r, d) => 1 - (r * d))));
            }
            else
            {
                gradient = gradient.addcmul(parameter, _weightDecay, _one);
            }
        }
        _firstMoment!.mul_(_beta1).add_(gradient, alpha: _oneMinusBeta1);
        _secondMoment!.mul_(_beta2).addcmul_(gradient, gradient, value: _oneMinusBeta2);
        var biasCorrection1 = 1 - Math.Pow(Beta1, _steps);
        var biasCorrection2 = 1 - Math.Pow(Beta2, _steps);
        for (var k = 0; k < _minusStepSizes.Length; k++)
        {
            _minusStepSizes[k] = (float)(-learningRates[k] / biasCorrection1);
        }
        using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        var denominator = _secondMoment.sqrt().div_(sqrtBiasCorrection2).add_(_epsilon, _one);
        parameter.add_(_firstMoment.div(denominator).mul_(tensor(_minusStepSizes, [_minusStepSizes.Length, 1])));
    }

    /// <summary>A new optimiser for the trials at <paramref name="keep"/>, carrying their moments and step count.</summary>
    public StackedOptimizer Select(IReadOnlyList<int> keep)
    {
        using var index = tensor(keep.Select(k => (long)k).ToArray());
        return new StackedOptimizer(_kind, keep.Select(k => _learningRates[k]).ToArray(), keep.Select(k => _schedules[k]).ToArray(),
            keep.Select(k => _totalSteps[k]).ToArray(), keep.Select(k => _weightDecays[k]).ToArray(), 0, _steps,
            _firstMoment?.index_select(0, index), _secondMoment?.index_select(0, index));
    }

    public void Dispose()
    {
        _firstMoment?.Dispose();
        _secondMoment?.Dispose();
        _weightDecay.Dispose();
        foreach (var scalar in (Scalar[])[_beta1, _oneMinusBeta1, _beta2, _oneMinusBeta2, _epsilon, _one])
        {
            scalar.Dispose();
        }
    }

    private static Tensor Column(IEnumerable<double> values)
    {
        var column = values.Select(v => (float)v).ToArray();
        return tensor(column, [column.Length, 1]);
    }
}
