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

    public static RouteGroupBuilder MapDatasets(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/datasets").WithTags("Datasets");

        group.MapPost("/", Upload).WithName("UploadDataset")
            .WithSummary("Upload a dataset (CSV or JSON)")
            .WithDescription("text/csv: a header row then data rows (RFC 4180; quoted fields may hold commas and newlines), the name "
                + "in ?name=. application/json: {\"name\", \"columns\", \"rows\"}. A column is numeric when every non-empty value "
                + "parses as an invariant-culture number, else categorical; empty cells (and JSON null) are missing. Bad input is "
                + "400 naming the row or column, another content type 415, a body over Limits:MaxRequestBodyBytes 413.")
            .Accepts<DatasetUpload>("application/json", "text/csv")
            .WithRequestExample("application/json", """
                {"name": "houses", "columns": ["square_footage", "rooms", "price"],
                 "rows": [[0.1, 0.2, 70000], [0.5, 0.5, 300000], [0.9, 0.1, 460000], [0.3, 0.8, 230000], [0.7, 0.4, 390000]]}
                """)
            .WithRequestExample("text/csv", "square_footage,rooms,price\n0.1,0.2,70000\n0.5,0.5,300000\n0.9,0.1,460000\n")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .RequireAuthorization(ApiPolicies.Write);

        group.MapGet("/", List).WithName("ListDatasets")
            .WithSummary("List datasets, newest first")
            .WithDescription("Every stored dataset with its row count, SHA-256 of the stored (normalised) CSV and per-column statistics.")
            .RequireAuthorization(ApiPolicies.Read);

        group.MapGet("/{id}", Get).WithName("GetDataset")
            .WithSummary("One dataset with its column types and statistics")
            .WithDescription("Numeric columns report missing, min, max and mean; categorical ones missing, categories and "
                + "distinctCount. 404 for an unknown id.")
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
        HttpRequest request, string? name, IDatasetStore store, IOptions<LimitsOptions> limits,
        CancellationToken cancellationToken)
    {
        var kind = MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) ? mediaType.MediaType.Value : null;
        var isCsv = string.Equals(kind, "text/csv", StringComparison.OrdinalIgnoreCase);
        var isJson = string.Equals(kind, "application/json", StringComparison.OrdinalIgnoreCase);
        if (!isCsv && !isJson)
        {
            return TypedResults.Problem($"Send text/csv or application/json; got '{request.ContentType ?? "no content type"}'.",
                statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type");
        }
        using var body = await RequestBody.ReadAsync(request, cancellationToken);
        DataTable table;
        IReadOnlyList<ColumnInfo> columns;
        if (isCsv)
        {
            (table, columns) = CsvDatasetParser.Parse(body.Memory, limits.Value);
        }
        else
        {
            string? named;
            (named, table, columns) = JsonDatasetParser.Parse(body.Span, limits.Value);
            name ??= named;
        }
        name = name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            name = DatasetUpload.DefaultName;
        }
        if (name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            return Problems.Invalid("name", $"A dataset name has at most {MaxNameLength} characters and no control characters.");
        }
        var info = store.Save(name, table, columns);
        return TypedResults.Created($"/api/v1/datasets/{info.Id}", info);
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
