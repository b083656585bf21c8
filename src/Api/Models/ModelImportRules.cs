using ModelService.Api.Errors;
using ModelService.Api.Limits;
using ModelService.Api.Training;
using ModelService.Model.Artifacts;

namespace ModelService.Api.Models;

/// <summary>An imported model obeys the limits a trained one does: the network a training request may ask for, and
/// tags small enough that listing models stays cheap.</summary>
internal static class ModelImportRules
{
    /// <exception cref="ApiProblemException">400 naming the manifest member over its limit.</exception>
    public static void Check(ModelManifest manifest, LimitsOptions limits, TrainingQueueOptions training)
    {
        var network = manifest.Network;
        if (!manifest.TakesTensors && (network.Height != 1 || network.Width != 1))
        {
            throw Invalid("network", $"The network is {network.Height} x {network.Width}; a table model is 1 x 1.");
        }
        if (network.HiddenChannels.Count is < 1 or > TrainingLimits.MaxHiddenLayers)
        {
            throw Invalid("network.hiddenChannels",
                $"The network has {network.HiddenChannels.Count} hidden layers; between 1 and {TrainingLimits.MaxHiddenLayers} are allowed.");
        }
        for (var i = 0; i < network.HiddenChannels.Count; i++)
        {
            if (network.HiddenChannels[i] is < 1 or > TrainingLimits.MaxLayerWidth)
            {
                throw Invalid($"network.hiddenChannels[{i}]", $"A hidden layer has between 1 and {TrainingLimits.MaxLayerWidth} "
                    + $"channels; got {network.HiddenChannels[i]}.");
            }
        }
        if (network.ParameterCount > training.MaxParameters)
        {
            throw Invalid("network", $"The network has {network.ParameterCount} parameters; at most {training.MaxParameters} are "
                + "allowed (Training:MaxParameters).");
        }
        var tags = manifest.Tags ?? new Dictionary<string, string>();
        if (tags.Count >= limits.MaxModelTags)
        {
            // One more tag (importedFrom) is added on import.
            throw Invalid("tags", $"The manifest has {tags.Count} tags; at most {limits.MaxModelTags - 1} can be imported (Limits:MaxModelTags).");
        }
        foreach (var (key, value) in tags)
        {
            if (key.Length > limits.MaxTagLength || value.Length > limits.MaxTagLength)
            {
                throw Invalid("tags", $"A tag key or value is longer than {limits.MaxTagLength} characters (Limits:MaxTagLength).");
            }
        }
    }

    private static ApiProblemException Invalid(string member, string detail) =>
        ApiProblemException.Validation($"manifest.{member}", detail);
}
