using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Inference;
using ModelService.Model.Network;
using ModelService.Model.Preprocessing;
using static TorchSharp.torch;

namespace ModelService.Model.Tests.Inference;

/// <summary>The reference forward pass of a trained model through its TorchSharp <see cref="ConvRegressor"/> in eval mode,
/// against which the tests and the benchmarks check <see cref="Predictor"/>. Every tensor of a call lives in that call's
/// dispose scope; one caller at a time.</summary>
internal sealed class TorchForward : IDisposable
{
    private readonly Generator _generator = new(0);
    private readonly ConvRegressor _module;
    private readonly Preprocessor _preprocessor;

    /// <summary>Builds the module and loads the model's weights.</summary>
    public TorchForward(TrainedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _preprocessor = model.Preprocessor;
        _module = new ConvRegressor(model.Manifest.Network, _generator);
        _module.LoadWeights(model.Weights);
        _module.eval();
    }

    /// <summary>Predicts raw rows (row-major, model feature order), in the target's units.</summary>
    public void Predict(ReadOnlySpan<FeatureValue> rows, int rowCount, Span<double> predictions)
    {
        if (predictions.Length != rowCount)
        {
            throw new ArgumentException($"Expected room for {rowCount} predictions, got {predictions.Length}.", nameof(predictions));
        }
        var inputs = new float[rowCount * _preprocessor.InputWidth];
        _preprocessor.Encode(rows, rowCount, inputs);
        var outputs = Forward(inputs, rowCount);
        for (var r = 0; r < rowCount; r++)
        {
            predictions[r] = _preprocessor.UnscaleTarget(outputs[r]);
        }
    }

    /// <summary>Predicts raw tensor samples [count, height, width, C] of a tensor model, in the target's units: one value per
    /// sample, or count·height·width for a per-position model.</summary>
    public double[] PredictTensor(float[] x, int count, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(x);
        var encoded = new float[x.Length];
        _preprocessor.EncodeNumbers<float>(x, x.Length / _preprocessor.InputWidth, encoded);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var outputs = _module.forward(tensor(encoded, [count, height, width, _preprocessor.InputWidth])).data<float>().ToArray();
        return outputs.Select(z => _preprocessor.UnscaleTarget(z)).ToArray();
    }

    /// <summary>Network outputs (standardised target) for encoded inputs, row-major [rows, H·W·C].</summary>
    public float[] Forward(float[] inputs, int rows)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return _module.forward(tensor(inputs, [rows, _preprocessor.InputWidth])).data<float>().ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _module.Dispose();
        _generator.Dispose();
    }
}
