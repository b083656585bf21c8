using System.Collections.Concurrent;
using ModelService.Model.Artifacts;
using ModelService.Model.Inference;

namespace ModelService.Api.Models;

/// <summary>A model as listed: its manifest, or the reason it cannot be loaded.</summary>
internal sealed record ModelEntry(string Id, DateTimeOffset CreatedAt, ModelManifest? Manifest, string? Error)
{
    public bool IsValid => Manifest is not null;
}

internal enum ModelChange
{
    Done,
    NotFound,
    Invalid,
    IsActive,
}

/// <summary>Knows every stored model and which one is active. The active predictor is an immutable object behind a
/// volatile reference: activation swaps the reference, and a request that already read it finishes on that model.</summary>
internal sealed partial class ModelRegistry(ModelStore store, PredictorCache cache, ILogger<ModelRegistry> logger)
{
    private readonly ConcurrentDictionary<string, ModelEntry> _valid = new(StringComparer.Ordinal);
    private readonly Lock _changes = new();
    private volatile Predictor? _active;

    public Predictor? Active => _active;

    public IReadOnlyList<ModelEntry> List()
    {
        var ids = store.ListIds();
        foreach (var stale in _valid.Keys.Except(ids))
        {
            _valid.TryRemove(stale, out _);
        }
        return [.. ids.Select(Describe).OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id, StringComparer.Ordinal)];
    }

    public ModelEntry? Find(string id) => store.Exists(id) ? Describe(id) : null;

    /// <summary>The predictor for <paramref name="id"/>, from memory when possible.</summary>
    /// <exception cref="InvalidModelArtifactException">The stored model cannot be loaded.</exception>
    public Predictor? GetPredictor(string id)
    {
        if (_active is { } active && active.Manifest.Id == id)
        {
            return active;
        }
        if (cache.Get(id) is { } cached)
        {
            return cached;
        }
        if (!store.Exists(id))
        {
            return null;
        }
        var predictor = new Predictor(store.Load(id));
        cache.Add(predictor);
        return predictor;
    }

    /// <summary>Adds a model just written by training; with <paramref name="activate"/> it becomes the active one.</summary>
    public void Add(TrainedModel model, bool activate)
    {
        store.Save(model);
        _valid[model.Manifest.Id] = new ModelEntry(model.Manifest.Id, model.Manifest.CreatedAt, model.Manifest, null);
        if (activate)
        {
            lock (_changes)
            {
                SetActive(new Predictor(model));
            }
        }
    }

    public (ModelChange Result, ModelEntry? Entry) Activate(string id)
    {
        lock (_changes)
        {
            if (Find(id) is not { } entry)
            {
                return (ModelChange.NotFound, null);
            }
            if (!entry.IsValid)
            {
                return (ModelChange.Invalid, entry);
            }
            try
            {
                SetActive(GetPredictor(id)!);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogInvalid(logger, e, id);
                _valid.TryRemove(id, out _);
                return (ModelChange.Invalid, entry with { Manifest = null, Error = e.Message });
            }
            LogActivated(logger, id);
            return (ModelChange.Done, entry);
        }
    }

    public ModelChange Delete(string id)
    {
        lock (_changes)
        {
            if (!store.Exists(id))
            {
                return ModelChange.NotFound;
            }
            if (_active?.Manifest.Id == id)
            {
                return ModelChange.IsActive;
            }
            store.Delete(id);
            _valid.TryRemove(id, out _);
            cache.Remove(id);
            LogDeleted(logger, id);
            return ModelChange.Done;
        }
    }

    /// <summary>Start-up: the model named by the pointer file, else the newest valid model, else the bundled default.</summary>
    public void LoadActiveModel(string bundledDefault, Func<TrainedModel, TrainedModel> asNewModel)
    {
        lock (_changes)
        {
            var pointer = store.ReadActivePointer();
            if (pointer is not null && TryLoad(pointer) is { } named)
            {
                _active = named;
                LogLoaded(logger, pointer);
                return;
            }
            foreach (var entry in List().Where(e => e.IsValid))
            {
                if (TryLoad(entry.Id) is { } newest)
                {
                    LogFallback(logger, pointer, entry.Id);
                    SetActive(newest);
                    return;
                }
            }
            var installed = asNewModel(ModelArtifact.Load(bundledDefault));
            store.Save(installed);
            _valid[installed.Manifest.Id] = new ModelEntry(installed.Manifest.Id, installed.Manifest.CreatedAt, installed.Manifest, null);
            SetActive(new Predictor(installed));
            LogInstalledDefault(logger, installed.Manifest.Id, bundledDefault);
        }
    }

    private void SetActive(Predictor predictor)
    {
        store.WriteActivePointer(predictor.Manifest.Id);
        _active = predictor;
    }

    private Predictor? TryLoad(string id)
    {
        if (!store.Exists(id))
        {
            LogMissing(logger, id);
            return null;
        }
        try
        {
            return GetPredictor(id);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogInvalid(logger, e, id);
            return null;
        }
    }

    private ModelEntry Describe(string id)
    {
        if (_valid.TryGetValue(id, out var known))
        {
            return known;
        }
        try
        {
            var manifest = store.Load(id).Manifest;
            return _valid[id] = new ModelEntry(id, manifest.CreatedAt, manifest, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Invalid models are not remembered: a repaired folder shows up valid on the next listing.
            LogInvalid(logger, e, id);
            return new ModelEntry(id, store.FolderTime(id), null, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded active model {ModelId}")]
    private static partial void LogLoaded(ILogger logger, string modelId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Active model {PointerModelId} is unusable; fell back to the newest valid model {ModelId}")]
    private static partial void LogFallback(ILogger logger, string? pointerModelId, string modelId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Installed the bundled default model as {ModelId} from {BundledPath}")]
    private static partial void LogInstalledDefault(ILogger logger, string modelId, string bundledPath);

    [LoggerMessage(Level = LogLevel.Information, Message = "Activated model {ModelId}")]
    private static partial void LogActivated(ILogger logger, string modelId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted model {ModelId}")]
    private static partial void LogDeleted(ILogger logger, string modelId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {ModelId} named as active does not exist")]
    private static partial void LogMissing(ILogger logger, string modelId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {ModelId} cannot be loaded and is listed as invalid")]
    private static partial void LogInvalid(ILogger logger, Exception exception, string modelId);
}
