using TorchSharp;
using static TorchSharp.torch;

namespace ModelService.Model.Training;

/// <summary>
/// Adam, AdamW and SGD (PyTorch's update rules, no momentum for SGD) on the network's one flat parameter tensor.
/// TorchSharp's optimizers pass their hyperparameters to LibTorch as <see cref="Scalar"/>s created by implicit conversion
/// and left to the finalizer. A garbage collection during the native call (frequent while the service answers requests)
/// can free such a scalar while LibTorch still reads it, which fails the step with "Unknown scalar type". Here every
/// scalar is a field, or a <c>using</c> local that outlives the call that reads it.
/// </summary>
internal sealed class FlatOptimizer : IDisposable
{
    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double Epsilon = 1e-8;

    private readonly Tensor _parameter;
    private readonly OptimizerKind _kind;
    private readonly double _learningRate;
    private readonly LearningRateSchedule _schedule;
    private readonly long _totalSteps;
    private readonly double _weightDecay;
    private readonly Tensor? _firstMoment;
    private readonly Tensor? _secondMoment;
    private readonly Scalar _beta1 = Beta1.ToScalar();
    private readonly Scalar _oneMinusBeta1 = (1 - Beta1).ToScalar();
    private readonly Scalar _beta2 = Beta2.ToScalar();
    private readonly Scalar _oneMinusBeta2 = (1 - Beta2).ToScalar();
    private readonly Scalar _epsilon = Epsilon.ToScalar();
    private readonly Scalar _one = 1.0.ToScalar(); // add_(Scalar) alone would make its alpha of 1 implicitly
    private readonly Scalar _weightDecayScalar;
    private long _steps;

    /// <summary>An optimiser for a run of <paramref name="totalSteps"/> steps (the schedule's length).</summary>
    public FlatOptimizer(Tensor parameter, TrainingOptions options, long totalSteps)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(options);
        _parameter = parameter;
        _kind = options.Optimizer;
        _learningRate = options.LearningRate;
        _schedule = options.LearningRateSchedule;
        _totalSteps = totalSteps;
        _weightDecay = options.WeightDecay;
        _weightDecayScalar = _weightDecay.ToScalar();
        if (_kind is OptimizerKind.Adam or OptimizerKind.AdamW)
        {
            _firstMoment = zeros_like(parameter).DetachFromDisposeScope();
            _secondMoment = zeros_like(parameter).DetachFromDisposeScope();
        }
    }

    /// <summary>Applies one update from the parameter's current gradient.</summary>
    public void Step()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var gradient = _parameter.grad ?? throw new InvalidOperationException("The parameter has no gradient.");
        var learningRate = _learningRate * _schedule.Factor(_steps, _totalSteps);
        _steps++;
        if (_kind == OptimizerKind.Sgd)
        {
            if (_weightDecay != 0)
            {
                gradient = gradient.add(_parameter, alpha: _weightDecayScalar);
            }
            using var minusLearningRate = (-learningRate).ToScalar();
            _parameter.add_(gradient, alpha: minusLearningRate);
            return;
        }

        if (_weightDecay != 0)
        {
            if (_kind == OptimizerKind.AdamW)
            {
                using var decoupledDecay = (1 - (learningRate * _weightDecay)).ToScalar();
                _parameter.mul_(decoupledDecay);
            }
            else
            {
                gradient = gradient.add(_parameter, alpha: _weightDecayScalar);
            }
        }
        _firstMoment!.mul_(_beta1).add_(gradient, alpha: _oneMinusBeta1);
        _secondMoment!.mul_(_beta2).addcmul_(gradient, gradient, value: _oneMinusBeta2);
        var biasCorrection1 = 1 - Math.Pow(Beta1, _steps);
        var biasCorrection2 = 1 - Math.Pow(Beta2, _steps);
        using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var minusStepSize = (-learningRate / biasCorrection1).ToScalar();
        var denominator = _secondMoment.sqrt().div_(sqrtBiasCorrection2).add_(_epsilon, _one);
        _parameter.addcdiv_(_firstMoment, denominator, value: minusStepSize);
    }

    public void Dispose()
    {
        _firstMoment?.Dispose();
        _secondMoment?.Dispose();
        foreach (var scalar in (Scalar[])[_beta1, _oneMinusBeta1, _beta2, _oneMinusBeta2, _epsilon, _one, _weightDecayScalar])
        {
            scalar.Dispose();
        }
    }
}
