using ModelService.Api.Infrastructure;
using ModelService.Model.Artifacts;

namespace ModelService.Api.Models;

/// <summary>Model folders under <c>models/{id}</c> (written atomically by <see cref="ModelArtifact.Save"/>) and the
/// <c>active-model</c> pointer file (replaced atomically).</summary>
internal sealed class ModelStore(StoragePaths paths)
{
    public string DirectoryOf(string id) => Path.Combine(paths.Models, id);

    public bool Exists(string id) => Ids.IsModelId(id) && Directory.Exists(DirectoryOf(id));

    /// <summary>Ids of every model folder; half-written folders carry other names and are never listed.</summary>
    public IReadOnlyList<string> ListIds() =>
        [.. Directory.EnumerateDirectories(paths.Models).Select(Path.GetFileName).OfType<string>().Where(Ids.IsModelId)];

    public DateTimeOffset FolderTime(string id) => new(Directory.GetCreationTimeUtc(DirectoryOf(id)), TimeSpan.Zero);

    public TrainedModel Load(string id) => ModelArtifact.Load(DirectoryOf(id));

    public void Save(TrainedModel model) => ModelArtifact.Save(model, DirectoryOf(model.Manifest.Id));

    public void Delete(string id) => AtomicFile.DeleteDirectory(DirectoryOf(id));

    public string? ReadActivePointer()
    {
        if (!File.Exists(paths.ActiveModelPointer))
        {
            return null;
        }
        var id = File.ReadAllText(paths.ActiveModelPointer).Trim();
        return id.Length == 0 ? null : id;
    }

    public void WriteActivePointer(string id) => AtomicFile.WriteAllText(paths.ActiveModelPointer, id);
}
