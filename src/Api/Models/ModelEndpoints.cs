using Microsoft.AspNetCore.Http.HttpResults;
using ModelService.Api.Auth;
using ModelService.Api.Errors;

namespace ModelService.Api.Models;

internal static class ModelEndpoints
{
    /// <summary>Models as resources, and as files (<see cref="ModelArtifactEndpoints"/>).</summary>
    public static RouteGroupBuilder MapModels(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/models").WithTags("Models");

        group.MapGet("/", List).WithName("ListModels")
            .WithSummary("List models, newest first")
            .WithDescription("Every stored model. A model whose artifact cannot be read is listed with status \"invalid\" and the error.")
            .RequireAuthorization(ApiPolicies.Read);

        group.MapGet("/active", GetActive).WithName("GetActiveModel")
            .WithSummary("The model predictions use")
            .WithDescription("Answers 503 while no model is loaded.")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireAuthorization(ApiPolicies.Read);

        group.MapGet("/{id}", Get).WithName("GetModel")
            .WithSummary("One model")
            .WithDescription("Features with their fitted preprocessing, architecture, training settings and metrics in target units.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiPolicies.Read);

        group.MapPost("/{id}/activate", Activate).WithName("ActivateModel")
            .WithSummary("Make a model the one predictions use")
            .WithDescription("The switch is atomic: a prediction already under way finishes on the model it started with. "
                + "404 for an unknown model, 409 for a model whose artifact is invalid.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiPolicies.Write);

        group.MapDelete("/{id}", Delete).WithName("DeleteModel")
            .WithSummary("Delete a model")
            .WithDescription("404 for an unknown model; 409 for the active model (activate another one first).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiPolicies.Write);

        routes.MapModelArtifacts();
        return group;
    }

    private static Ok<ModelInfo[]> List(ModelRegistry registry)
    {
        var activeId = registry.Active?.Manifest.Id;
        return TypedResults.Ok(registry.List().Select(e => ModelInfo.From(e, activeId)).ToArray());
    }

    private static Results<Ok<ModelInfo>, ProblemHttpResult> GetActive(ModelRegistry registry)
    {
        if (registry.Active is not { } active)
        {
            return TypedResults.Problem("No model is loaded yet.", statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Service unavailable");
        }
        return TypedResults.Ok(ModelInfo.From(new ModelEntry(active.Manifest.Id, active.Manifest.CreatedAt, active.Manifest, null),
            active.Manifest.Id));
    }

    private static Results<Ok<ModelInfo>, ProblemHttpResult> Get(string id, ModelRegistry registry)
    {
        if (registry.Find(id) is not { } entry)
        {
            return NotFound(id);
        }
        return TypedResults.Ok(ModelInfo.From(entry, registry.Active?.Manifest.Id));
    }

    private static Results<Ok<ModelInfo>, ProblemHttpResult> Activate(string id, ModelRegistry registry)
    {
        var (result, entry) = registry.Activate(id);
        return result switch
        {
            ModelChange.Done => TypedResults.Ok(ModelInfo.From(entry!, id)),
            ModelChange.Invalid => Problems.Conflict($"Model '{id}' cannot be activated: its artifact is invalid ({entry!.Error})."),
            _ => NotFound(id),
        };
    }

    private static Results<NoContent, ProblemHttpResult> Delete(string id, ModelRegistry registry) => registry.Delete(id) switch
    {
        ModelChange.Done => TypedResults.NoContent(),
        ModelChange.IsActive => Problems.Conflict($"Model '{id}' is the active model; activate another model before deleting it."),
        _ => NotFound(id),
    };

    private static ProblemHttpResult NotFound(string id) => Problems.NotFound($"No model with id '{id}'.");
}
