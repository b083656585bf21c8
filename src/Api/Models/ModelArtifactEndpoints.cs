using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using ModelService.Api.Auth;
using ModelService.Api.Errors;
using ModelService.Api.Limits;
using ModelService.Api.OpenApi;
using ModelService.Api.Storage;
using ModelService.Api.Training;
using ModelService.Model.Artifacts;
using ModelService.Model.Inference;

namespace ModelService.Api.Models;

/// <summary>Models as files: download one as an archive, import an archive as a new model.</summary>
internal static partial class ModelArtifactEndpoints
{
    public const string ImportedFromTag = "importedFrom";

    private static readonly string[] ArchiveTypes = [ModelArchive.ContentType, "application/x-gzip", "application/octet-stream"];

    public static RouteGroupBuilder MapModelArtifacts(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/models").WithTags("Models");

        group.MapGet("/{id}/artifact", Download).WithName("DownloadModel")
            .WithSummary("Download a model as one archive")
            .WithDescription("A gzip-compressed tar (application/gzip) of manifest.json and weights.bin, the model's files as "
                + "stored; POST it to /api/v1/models to import it elsewhere. 404 for an unknown model, 409 for an invalid one.")
            .Produces(StatusCodes.Status200OK, contentType: ModelArchive.ContentType)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiPolicies.Read);

        group.MapPost("/", Import).WithName("ImportModel")
            .WithSummary("Import a model archive")
            .WithDescription("Body: an archive from \"Download a model\" (application/gzip). The archive must hold exactly "
                + "manifest.json and weights.bin, and the weights must match the manifest's SHA-256 and tensor shapes; anything "
                + "else is 400 and stores nothing. The model always gets a new id (tag importedFrom keeps the original one) and "
                + "is not activated. Answers 201 with the new model.")
            .Accepts<byte[]>(ModelArchive.ContentType)
            .WithRequestExample(ModelArchive.ContentType, "(the bytes of a .tar.gz saved from GET /api/v1/models/{id}/artifact)")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .RequireAuthorization(ApiPolicies.Write);

        return group;
    }

    private static Results<FileContentHttpResult, ProblemHttpResult> Download(string id, ModelRegistry registry, IModelStore store)
    {
        if (registry.Find(id) is not { } entry)
        {
            return Problems.NotFound($"No model with id '{id}'.");
        }
        if (!entry.IsValid)
        {
            return Problems.Conflict($"Model '{id}' cannot be downloaded: its artifact is invalid ({entry.Error}).");
        }
        if (store.ReadFiles(id) is not { } files)
        {
            return Problems.NotFound($"No model with id '{id}'.");
        }
        return TypedResults.File(ModelArchive.Create(files, entry.CreatedAt), ModelArchive.ContentType, $"{id}.tar.gz");
    }

    private static async Task<Results<Created<ModelInfo>, ValidationProblem, ProblemHttpResult>> Import(
        HttpRequest request, ModelRegistry registry, StoragePaths paths, IOptions<LimitsOptions> limits,
        IOptions<TrainingQueueOptions> training, ILogger<ModelRegistry> logger, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !ArchiveTypes.Contains(mediaType.MediaType.Value, StringComparer.OrdinalIgnoreCase))
        {
            return TypedResults.Problem($"Send the model archive as {ModelArchive.ContentType}; got '{request.ContentType ?? "no content type"}'.",
                statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type");
        }
        using var body = await RequestBody.ReadAsync(request, cancellationToken);
        // Hidden (leading dot) so that it is never listed, and removed at start-up if the process dies mid-import.
        var staging = Path.Combine(paths.Models, $".import-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            var limit = limits.Value;
            ModelArchive.Extract(body.Memory, staging,
                new ArchiveLimits(limit.MaxRequestBodyBytes, limit.MaxManifestBytes, limit.MaxArchiveHeaderBytes));
            TrainedModel loaded;
            try
            {
                // The limits are checked before the weights are read or a predictor built: both are sized by the network.
                var manifest = ModelArtifact.ReadManifest(File.ReadAllBytes(Path.Combine(staging, ModelArtifact.ManifestFileName)));
                ModelImportRules.Check(manifest, limit, training.Value);
                loaded = ModelArtifact.Load(staging);
            }
            catch (InvalidModelArtifactException e)
            {
                return Problems.Invalid("body", $"The archive is not a valid model: {e.Message}");
            }
            try
            {
                _ = new Predictor(loaded);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
            {
                return Problems.Invalid("body", $"The archive is not a valid model: {e.Message}");
            }
            var tags = new Dictionary<string, string>(loaded.Manifest.Tags ?? new Dictionary<string, string>(), StringComparer.Ordinal)
            {
                [ImportedFromTag] = loaded.Manifest.Id,
            };
            var model = ModelArtifact.WithId(loaded, Ids.NewModelId(), tags);
            registry.Add(model);
            LogImported(logger, model.Manifest.Id, loaded.Manifest.Id);
            var entry = registry.Find(model.Manifest.Id)!;
            return TypedResults.Created($"/api/v1/models/{model.Manifest.Id}", ModelInfo.From(entry, registry.Active?.Manifest.Id));
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Imported model {ModelId} from an archive of model {OriginalModelId}")]
    private static partial void LogImported(ILogger logger, string modelId, string originalModelId);
}
