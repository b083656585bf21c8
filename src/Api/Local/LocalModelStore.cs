using ModelService.Api.Storage;
using ModelService.Api.Models;
using ModelService.Model.Artifacts;

namespace ModelService.Api.Local;

/// <summary>Model folders under <c>models/{id}</c> (written atomically by <see cref="ModelArtifact.Save"/>) and the
/// <c>active-model</c> pointer file (replaced atomically).</summary>
internal sealed partial class LocalModelStore(StoragePaths paths, LocalStoreLock storeLock, StoreSignals signals,
    ILogger<LocalModelStore> logger) : IModelStore
{
    // Listings repeat; each invalid model is logged once per process.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _reported = new(StringComparer.Ordinal);

    public IReadOnlyList<ModelEntry> List() =>
        [.. Directory.EnumerateDirectories(paths.Models).Select(Path.GetFileName).OfType<string>().Where(Ids.IsModelId).Select(Describe)];

    public ModelEntry? Find(string id) => Exists(id) ? Describe(id) : null;

    public TrainedModel? Load(string id) => Exists(id) ? ModelArtifact.Load(DirectoryOf(id)) : null;

    public ModelFiles? ReadFiles(string id)
    {
        if (!Exists(id))
        {
            return null;
        }
        try
        {
            return new ModelFiles(File.ReadAllBytes(Path.Combine(DirectoryOf(id), ModelArtifact.ManifestFileName)),
                File.ReadAllBytes(Path.Combine(DirectoryOf(id), ModelArtifact.WeightsFileName)));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public void Save(TrainedModel model) => ModelArtifact.Save(model, DirectoryOf(model.Manifest.Id));

    public ModelChange Delete(string id)
    {
        lock (storeLock.Models)
        {
            if (!Exists(id))
            {
                return ModelChange.NotFound;
            }
            if (ReadActivePointer() == id)
            {
                return ModelChange.IsActive;
            }
            AtomicFile.DeleteDirectory(DirectoryOf(id));
            return ModelChange.Done;
        }
    }

    public string? ReadActivePointer()
    {
        if (!File.Exists(paths.ActiveModelPointer))
        {
            return null;
        }
        var id = File.ReadAllText(paths.ActiveModelPointer).Trim();
        return id.Length == 0 ? null : id;
    }

    public void SetActive(string id)
    {
        lock (storeLock.Models)
        {
            AtomicFile.WriteAllText(paths.ActiveModelPointer, id);
        }
        signals.RaiseActiveModelChanged();
    }

    public TrainedModel? InstallIfEmpty(Func<TrainedModel> create)
    {
        lock (storeLock.Models)
        {
            if (List().Any(e => e.IsValid))
            {
                return null;
            }
            var model = create();
            Save(model);
            SetActive(model.Manifest.Id);
            return model;
        }
    }

    private string DirectoryOf(string id) => Path.Combine(paths.Models, id);

    private bool Exists(string id) => Ids.IsModelId(id) && Directory.Exists(DirectoryOf(id));

    private ModelEntry Describe(string id)
    {
        var folder = DirectoryOf(id);
        try
        {
            var manifest = ModelArtifact.ReadManifest(File.ReadAllBytes(Path.Combine(folder, ModelArtifact.ManifestFileName)), $"model {id}");
            return new ModelEntry(id, manifest.CreatedAt, manifest, null);
        }
        catch (Exception e) when (e is InvalidModelArtifactException or IOException or UnauthorizedAccessException)
        {
            // The listing is readable by anyone: it names the model and the file; the log has the folder and the cause.
            if (_reported.TryAdd(id, 0))
            {
                LogUnreadable(logger, e, id, folder);
            }
            var created = new DateTimeOffset(Directory.GetCreationTimeUtc(folder), TimeSpan.Zero);
            return new ModelEntry(id, created, null, e switch
            {
                InvalidModelArtifactException => e.Message,
                FileNotFoundException => $"model {id} has no {ModelArtifact.ManifestFileName}.",
                _ => $"model {id}'s {ModelArtifact.ManifestFileName} cannot be read; the error has been logged.",
            });
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {ModelId} in {ModelFolder} is listed as invalid")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string modelId, string modelFolder);
}
