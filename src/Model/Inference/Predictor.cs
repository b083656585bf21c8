using ModelService.Model.Artifacts;
using ModelService.Model.Data;

namespace ModelService.Model.Inference;

/// <summary>Predicts with a trained model in managed code. Immutable and safe for any number of concurrent callers.</summary>
public sealed class Predictor
{
    /// <summary>Prepares <paramref name="model"/> for prediction (batch norm folded into the convolutions).</summary>
    public Predictor(TrainedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Manifest = model.Manifest;
        throw new NotImplementedException();
    }

    /// <summary>The model's manifest.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>Predicts <paramref name="rowCount"/> rows of raw values (row-major, model feature order) into
    /// <paramref name="predictions"/>, in the target's units.</summary>
    /// <exception cref="ArgumentException">Wrong span lengths, or a numeric feature given a label.</exception>
    public void Predict(ReadOnlySpan<FeatureValue> rows, int rowCount, Span<double> predictions) =>
        throw new NotImplementedException();

    /// <summary>Predicts records of named raw values; a feature that is absent is imputed.</summary>
    /// <exception cref="ArgumentException">A record names a feature the model does not know.</exception>
    public double[] Predict(IReadOnlyList<IReadOnlyDictionary<string, FeatureValue>> records) =>
        throw new NotImplementedException();
}
