using System.Collections.Concurrent;
using ModelService.Api.Storage;
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
/// volatile reference: activation swaps the reference, and a request that already read it finishes on that model.
/// Predictions read only memory, so they keep working while the store is unreachable.</summary>
internal sealed partial class ModelRegistry(IModelStore store, PredictorCache cache, ILogger<ModelRegistry> logger)
{
    /// <summary>Models whose weights failed to load in this process: listed as invalid, though their manifests read.</summary>
    private readonly ConcurrentDictionary<string, string> _unloadable = new(StringComparer.Ordinal);
    private readonly Lock _changes = new();
    private volatile Predictor? _active;
    private string? _unusablePointer;

    public Predictor? Active => _active;

    public IReadOnlyList<ModelEntry> List() =>
        [.. store.List().Select(Checked).OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id, StringComparer.Ordinal)];

    public ModelEntry? Find(string id) => Ids.IsModelId(id) && store.Find(id) is { } entry ? Checked(entry) : null;

    /// <summary>The predictor for <paramref name="id"/>, from memory when possible, else loaded from the store into the
    /// cache.</summary>
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
        if (!Ids.IsModelId(id))
        {
            return null;
        }
        TrainedModel? model;
        try
        {
            model = store.Load(id);
        }
        catch (InvalidModelArtifactException e)
        {
            _unloadable[id] = e.Message;
            throw;
        }
        if (model is null)
        {
            return null;
        }
        var predictor = new Predictor(model);
        cache.Add(predictor);
        return predictor;
    }

    /// <summary>Stores an imported model (not activated).</summary>
    public void Add(TrainedModel model) => store.Save(model);

    /// <summary>Takes a model this process has just stored into memory; with <paramref name="activate"/> (the store
    /// already points at it) it becomes the active one at once, without waiting for the change notification.</summary>
    public void Adopt(TrainedModel model, bool activate)
    {
        var predictor = new Predictor(model);
        if (activate)
        {
            lock (_changes)
            {
                _active = predictor;
            }
            LogActivated(logger, model.Manifest.Id);
        }
        else
        {
            cache.Add(predictor);
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
            Predictor predictor;
            try
            {
                predictor = GetPredictor(id)!;
            }
            catch (Exception e) when (e is not (OutOfMemoryException or StoreUnavailableException))
            {
                LogInvalid(logger, e, id);
                _unloadable[id] = e.Message;
                return (ModelChange.Invalid, entry with { Manifest = null, Error = e.Message });
            }
            store.SetActive(id);
            _active = predictor;
            LogActivated(logger, id);
            return (ModelChange.Done, entry);
        }
    }

    public ModelChange Delete(string id)
    {
        if (!Ids.IsModelId(id))
        {
            return ModelChange.NotFound;
        }
        var result = store.Delete(id);
        if (result == ModelChange.Done)
        {
            cache.Remove(id);
            _unloadable.TryRemove(id, out _);
            LogDeleted(logger, id);
        }
        return result;
    }

    /// <summary>Start-up: the model the store points at, else the newest valid model, else the bundled default (installed
    /// by exactly one of the processes starting on an empty store).</summary>
    public void LoadActiveModel(Func<TrainedModel> bundledDefault)
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
                    store.SetActive(entry.Id);
                    _active = newest;
                    return;
                }
            }
            if (store.InstallIfEmpty(bundledDefault) is { } installed)
            {
                _active = new Predictor(installed);
                LogInstalledDefault(logger, installed.Manifest.Id);
                return;
            }
            // Another process installed the default between our reads: use what it activated.
            pointer = store.ReadActivePointer();
            _active = pointer is null ? null : TryLoad(pointer);
        }
    }

    /// <summary>Follows the store's pointer when another process moved it; the current model stays active when the
    /// new one cannot be loaded.</summary>
    public void Refresh()
    {
        var pointer = store.ReadActivePointer();
        if (pointer is null || pointer == _active?.Manifest.Id || pointer == _unusablePointer)
        {
            return;
        }
        lock (_changes)
        {
            if (pointer == _active?.Manifest.Id)
            {
                return;
            }
            if (TryLoad(pointer) is { } predictor)
            {
                _active = predictor;
                _unusablePointer = null;
                LogFollowed(logger, pointer);
            }
            else
            {
                _unusablePointer = pointer;
            }
        }
    }

    private ModelEntry Checked(ModelEntry entry) =>
        entry.IsValid && _unloadable.TryGetValue(entry.Id, out var error) ? entry with { Manifest = null, Error = error } : entry;

    private Predictor? TryLoad(string id)
    {
        try
        {
            if (GetPredictor(id) is { } predictor)
            {
                return predictor;
            }
            LogMissing(logger, id);
            return null;
        }
        catch (Exception e) when (e is not (OutOfMemoryException or StoreUnavailableException))
        {
            LogInvalid(logger, e, id);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded active model {ModelId}")]
    private static partial void LogLoaded(ILogger logger, string modelId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Following active model {ModelId}, activated by another process")]
    private static partial void LogFollowed(ILogger logger, string modelId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Active model {PointerModelId} is unusable; fell back to the newest valid model {ModelId}")]
    private static partial void LogFallback(ILogger logger, string? pointerModelId, string modelId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Installed the bundled default model as {ModelId}")]
    private static partial void LogInstalledDefault(ILogger logger, string modelId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Activated model {ModelId}")]
    private static partial void LogActivated(ILogger logger, string modelId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted model {ModelId}")]
    private static partial void LogDeleted(ILogger logger, string modelId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {ModelId} named as active does not exist")]
    private static partial void LogMissing(ILogger logger, string modelId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {ModelId} cannot be loaded and is listed as invalid")]
    private static partial void LogInvalid(ILogger logger, Exception exception, string modelId);
}
