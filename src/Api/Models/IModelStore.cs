using ModelService.Model.Artifacts;

namespace ModelService.Api.Models;

/// <summary>Stored models (manifest and weights) and the pointer to the active one. One implementation per storage
/// provider; every one passes the same contract tests.</summary>
internal interface IModelStore
{
    /// <summary>Every stored model with its manifest, read without loading or hashing weights; a model whose manifest
    /// cannot be read is listed with the error.</summary>
    IReadOnlyList<ModelEntry> List();

    /// <summary>One model's manifest (weights neither read nor verified); null for an unknown id.</summary>
    ModelEntry? Find(string id);

    /// <summary>The full model, weights verified against the manifest; null for an unknown id.</summary>
    /// <exception cref="InvalidModelArtifactException">The stored model is corrupt.</exception>
    TrainedModel? Load(string id);

    /// <summary>The stored bytes of manifest.json and weights.bin, for export; null for an unknown id.</summary>
    ModelFiles? ReadFiles(string id);

    void Save(TrainedModel model);

    /// <summary>Deletes a model unless it is the active one (checked atomically against the pointer).</summary>
    ModelChange Delete(string id);

    string? ReadActivePointer();

    /// <summary>Points every process at <paramref name="id"/>; the change is announced through
    /// <see cref="Storage.StoreSignals.ActiveModelChanged"/>.</summary>
    void SetActive(string id);

    /// <summary>Stores and activates <paramref name="create"/>'s model only if the store has no model at all, as one
    /// atomic step across every process sharing the store; returns the installed model, or null when there was one.</summary>
    TrainedModel? InstallIfEmpty(Func<TrainedModel> create);
}
