using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using ModelService.Api.Auth;
using ModelService.Api.Errors;
using ModelService.Api.Limits;
using ModelService.Api.OpenApi;
using ModelService.Api.Training;
using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

internal static class DatasetEndpoints
{
    public const int MaxNameLength = 200;

    /// <summary>The media type NumPy's .npz archives go by.</summary>
    public const string NpzContentType = "application/x-npz";

    public static RouteGroupBuilder MapDatasets(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/datasets").WithTags("Datasets");

        group.MapPost("/", Upload).WithName("UploadDataset")
            .WithSummary("Upload a dataset (CSV, JSON or NumPy .npz)")
            .WithDescription("A table: text/csv (a header row then data rows, RFC 4180; quoted fields may hold commas and newlines; "
                + "the name in ?name=) or application/json {\"name\", \"columns\", \"rows\"}. A column is numeric when every "
                + "non-empty value parses as an invariant-culture number, else categorical; empty cells (and JSON null) are missing. "
                + "A tensor dataset: application/x-npz (or application/octet-stream with ?format=npz), a NumPy .npz archive as "
                + "numpy.savez(f, x=x, y=y) writes it, x float32 or float64 [N, H, W, C] in C order, y [N] (a value per sample) "
                + "or [N, H, W] (a value per position); or application/json {\"name\", \"x\", \"y\"} with nested arrays (null "
                + "for a missing value). NaN in x is a missing value; NaN in y marks a sample without a target. Bad input is 400 "
                + "naming the row, column or array; another content type 415; a body over Limits:MaxRequestBodyBytes or an x "
                + "over Limits:MaxTensorElements values 413.")
            .Accepts<DatasetUpload>("application/json", "text/csv", NpzContentType, "application/octet-stream")
            .WithRequestExample("application/json", "table", "A table (columns and rows)", """
                {"name": "houses", "columns": ["square_footage", "rooms", "price"],
                 "rows": [[0.1, 0.2, 70000], [0.5, 0.5, 300000], [0.9, 0.1, 460000], [0.3, 0.8, 230000], [0.7, 0.4, 390000]]}
                """)
            .WithRequestExample("application/json", "tensor", "A tensor dataset: two samples of [2, 2, 1], a target per position", """
                {"name": "tiles", "x": [[[[0.1], [0.2]], [[0.3], [null]]], [[[0.5], [0.6]], [[0.7], [0.8]]]],
                 "y": [[[0.3, 0.6], [0.9, 1.2]], [[1.5, 1.8], [2.1, 2.4]]]}
                """)
            .WithRequestExample("text/csv", "square_footage,rooms,price\n0.1,0.2,70000\n0.5,0.5,300000\n0.9,0.1,460000\n")
            .WithRequestExample(NpzContentType, "(the bytes of a .npz written by numpy.savez(f, x=x, y=y))")
            .WithRequestExample("application/octet-stream", "(the bytes of a .npz, with ?format=npz)")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .RequireAuthorization(ApiPolicies.Write);

        group.MapGet("/", List).WithName("ListDatasets")
            .WithSummary("List datasets, newest first")
            .WithDescription("Every stored dataset with its kind, row (sample) count, SHA-256 of the stored (normalised) CSV or .npz "
                + "and its statistics: per column for a table, per channel (and of the target) for a tensor dataset.")
            .RequireAuthorization(ApiPolicies.Read);

        group.MapGet("/{id}", Get).WithName("GetDataset")
            .WithSummary("One dataset with its column types and statistics")
            .WithDescription("Numeric columns report missing, min, max and mean; categorical ones missing, categories and "
                + "distinctCount. A tensor dataset reports shape [H, W, C], targetShape ([] or [H, W]), and missing, min, max and "
                + "mean per channel and of the target. 404 for an unknown id.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiPolicies.Read);

        group.MapDelete("/{id}", Delete).WithName("DeleteDataset")
            .WithSummary("Delete a dataset")
            .WithDescription("Models trained on it are kept. 409 while a queued or running training job uses it.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiPolicies.Write);

        return group;
    }

    private static async Task<Results<Created<DatasetInfo>, ValidationProblem, ProblemHttpResult>> Upload(
        HttpRequest request, string? name, string? format, IDatasetStore store, IOptions<LimitsOptions> limits,
        CancellationToken cancellationToken)
    {
        if (format is not null && format != "npz")
        {
            return Problems.Invalid("format", $"'format' takes npz (with application/octet-stream); got '{format}'.");
        }
        var kind = MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) ? mediaType.MediaType.Value : null;
        var upload = kind?.ToLowerInvariant() switch
        {
            "text/csv" => UploadFormat.Csv,
            "application/json" => UploadFormat.Json,
            NpzContentType => UploadFormat.Npz,
            "application/octet-stream" when format == "npz" => UploadFormat.Npz,
            _ => (UploadFormat?)null,
        };
        if (upload is null)
        {
            return TypedResults.Problem($"Send text/csv, application/json, {NpzContentType}, or application/octet-stream with "
                + $"?format=npz; got '{request.ContentType ?? "no content type"}'{(format is null ? "" : " with ?format=npz")}.",
                statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type");
        }
        using var body = await RequestBody.ReadAsync(request, cancellationToken);
        var (named, save) = upload == UploadFormat.Npz
            ? await ReadNpzAsync(body, limits.Value, store, cancellationToken)
            : Read(upload.Value, body, limits.Value, store);
        name = (name ?? named)?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            name = DatasetUpload.DefaultName;
        }
        if (name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            return Problems.Invalid("name", $"A dataset name has at most {MaxNameLength} characters and no control characters.");
        }
        var info = save(name);
        return TypedResults.Created($"/api/v1/datasets/{info.Id}", info);
    }

    /// <summary>Parses the body whole (a 400 or 413 stores nothing); returns the name it holds, if any, and how to store it.</summary>
    private static (string? Name, Func<string, DatasetInfo> Save) Read(UploadFormat format, RequestBody body, LimitsOptions limits,
        IDatasetStore store)
    {
        switch (format)
        {
            case UploadFormat.Csv:
            {
                var (table, columns) = CsvDatasetParser.Parse(body.Memory, limits);
                return (null, name => store.Save(name, table, columns));
            }
            case UploadFormat.Json when TensorJsonParser.IsTensorForm(body.Span):
            {
                var (named, data) = TensorJsonParser.Parse(body.Span, limits);
                return (named, name => store.SaveTensor(name, data, TensorSummary.Of(data)));
            }
            case UploadFormat.Json:
            {
                var (named, table, columns) = JsonDatasetParser.Parse(body.Span, limits);
                return (named, name => store.Save(name, table, columns));
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "An .npz body is read by ReadNpzAsync.");
        }
    }

    /// <summary>A deflated archive can hold far more than its body, so its values need a large-body slot by their own
    /// size, taken after the headers are checked and before the values are read.</summary>
    private static async Task<(string? Name, Func<string, DatasetInfo> Save)> ReadNpzAsync(RequestBody body, LimitsOptions limits,
        IDatasetStore store, CancellationToken cancellationToken)
    {
        using var archive = body.OpenRead();
        using var reader = NpzArchive.Open(archive, limits.MaxTensorElements, "Limits:MaxTensorElements");
        await body.ReserveAsync(reader.ValueBytes, cancellationToken);
        var data = reader.ReadValues();
        return (null, name => store.SaveTensor(name, data, TensorSummary.Of(data)));
    }

    private enum UploadFormat
    {
        Csv,
        Json,
        Npz,
    }

    private static Ok<IReadOnlyList<DatasetInfo>> List(IDatasetStore store) => TypedResults.Ok(store.List());

    private static Results<Ok<DatasetInfo>, ProblemHttpResult> Get(string id, IDatasetStore store) =>
        store.Get(id) is { } info ? TypedResults.Ok(info) : NotFound(id);

    private static Results<NoContent, ProblemHttpResult> Delete(string id, IDatasetStore store) => store.Delete(id) switch
    {
        DatasetDeletion.Deleted => TypedResults.NoContent(),
        DatasetDeletion.InUse => Problems.Conflict($"Dataset '{id}' is used by a queued or running training job; cancel it or wait for it to finish."),
        _ => NotFound(id),
    };

    private static ProblemHttpResult NotFound(string id) => Problems.NotFound($"No dataset with id '{id}'.");
}
