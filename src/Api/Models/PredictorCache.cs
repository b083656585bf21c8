using Microsoft.Extensions.Options;
using ModelService.Api.Predictions;
using ModelService.Model.Inference;

namespace ModelService.Api.Models;

/// <summary>The few most recently used predictors, so that predictions naming a model id do not reload it from disk
/// each time.</summary>
internal sealed class PredictorCache(IOptions<PredictionOptions> options)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Predictor> _recent = new();

    public Predictor? Get(string id)
    {
        lock (_gate)
        {
            for (var node = _recent.First; node is not null; node = node.Next)
            {
                if (node.Value.Manifest.Id == id)
                {
                    _recent.Remove(node);
                    _recent.AddFirst(node);
                    return node.Value;
                }
            }
            return null;
        }
    }

    public void Add(Predictor predictor)
    {
        lock (_gate)
        {
            Remove(predictor.Manifest.Id);
            _recent.AddFirst(predictor);
            while (_recent.Count > options.Value.ModelCacheSize)
            {
                _recent.RemoveLast();
            }
        }
    }

    public void Remove(string id)
    {
        lock (_gate)
        {
            for (var node = _recent.First; node is not null; node = node.Next)
            {
                if (node.Value.Manifest.Id == id)
                {
                    _recent.Remove(node);
                    return;
                }
            }
        }
    }
}
