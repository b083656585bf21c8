using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using ModelService.Api.Datasets;
using ModelService.Api.Auth;
using ModelService.Api.Errors;
using ModelService.Api.Limits;
using ModelService.Api.OpenApi;
using ModelService.Api.Storage;
using ModelService.Model.Serialization;

namespace ModelService.Api.Training;

internal static class TrainingEndpoints
{
    public const int DefaultListLimit = 100;
    public const int MaxListLimit = 1000;

    /// <summary>Training jobs, and their progress as a stream (<see cref="TrainingEventsEndpoints"/>).</summary>
    public static RouteGroupBuilder MapTraining(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/training-jobs").WithTags("Training jobs");

        group.MapPost("/", Submit).WithName("SubmitTrainingJob")
            .WithSummary("Queue a training job")
            .WithDescription("Validates the request against the dataset and answers 202 at once with the queued job; poll its "
                + "Location for progress. Replace datasetId with the id returned by \"Upload a dataset\". Only datasetId is "
                + "always required, and target for a table dataset; every other field has the default shown in the request "
                + "schema, and features defaults to every column but the target. A tensor dataset takes neither target nor "
                + "features (its x and y are the inputs and target); head defaults to flatten-dense for a target per sample "
                + "and per-position for a target per position. An unknown datasetId is 404; any other bad field is 400 naming "
                + "it. A full queue is 503 with Retry-After.")
            .Accepts<TrainingRequest>("application/json")
            .WithRequestExample("application/json", "table", "A table dataset: predict the price column", TableExample)
            .WithRequestExample("application/json", "tensor", "A tensor dataset with a target per position", TensorExample)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireAuthorization(ApiPolicies.Write)
            .RequireRateLimiting(RateLimitingSetup.TrainingPolicy);

        group.MapGet("/", List).WithName("ListTrainingJobs")
            .WithSummary("List training jobs, newest first")
            .WithDescription("Optional status filter (queued, running, succeeded, failed, cancelled) and limit.")
            .RequireAuthorization(ApiPolicies.Read);

        group.MapGet("/{id}", Get).WithName("GetTrainingJob")
            .WithSummary("One training job with its progress and per-epoch loss history")
            .WithDescription("Losses are the mean squared error on the standardised target. attempts counts the times a worker started the "
                + "job and worker names the instance that ran the latest attempt. A job whose worker died (a crash, a kill) is queued "
                + "again once its lease (Training:LeaseSeconds) expires, up to Training:MaxAttempts attempts, then failed.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiPolicies.Read);

        group.MapPost("/{id}/cancel", Cancel).WithName("CancelTrainingJob")
            .WithSummary("Cancel a training job")
            .WithDescription("A queued job becomes cancelled at once; a running job stops at its next batch on whichever worker "
                + "runs it, within about a second (poll it to see it cancelled). 409 when the job has already finished.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiPolicies.Write);

        routes.MapTrainingEvents();
        return group;
    }

    private const string TableExample = """
        {"datasetId": "ds_replace_me_", "target": "price", "hiddenChannels": [16, 8], "epochs": 50, "batchSize": 16,
         "learningRate": 0.001, "validationFraction": 0.2, "seed": 42, "activate": true}
        """;

    private const string TensorExample = """
        {"datasetId": "ds_replace_me_", "head": "per-position", "hiddenChannels": [16, 8], "epochs": 30, "batchSize": 16,
         "learningRate": 0.001, "validationFraction": 0.2, "seed": 42, "activate": false}
        """;

    private static Results<Accepted<TrainingJob>, ValidationProblem, ProblemHttpResult> Submit(
        TrainingRequest? request, IDatasetStore datasets, IJobStore jobs, IOptions<TrainingQueueOptions> options, HttpContext http)
    {
        if (request is null)
        {
            return Problems.Invalid("body", "Send a TrainingRequest: at least {\"datasetId\": \"...\", \"target\": \"...\"}.");
        }
        // The attributes on TrainingRequest have been checked by minimal-API validation before this runs.
        if (datasets.Get(request.DatasetId!) is not { } dataset)
        {
            return Problems.NotFound("datasetId", $"No dataset with id '{request.DatasetId}'.");
        }
        var (normalised, errors) = TrainingRequestValidator.Validate(request, dataset, options.Value);
        if (normalised is null)
        {
            return Problems.Invalid(errors);
        }
        var created = jobs.Create(normalised, options.Value.QueueCapacity);
        if (created.Result == JobCreationResult.DatasetMissing)
        {
            return Problems.NotFound("datasetId", $"No dataset with id '{request.DatasetId}'.");
        }
        if (created.Result == JobCreationResult.QueueFull)
        {
            http.Response.Headers.RetryAfter = options.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem($"The training queue is full ({options.Value.QueueCapacity} jobs); try again later.",
                statusCode: StatusCodes.Status503ServiceUnavailable, title: "Training queue full");
        }
        return TypedResults.Accepted(Location(created.Job!.Id), created.Job);
    }

    private static Results<Ok<IReadOnlyList<TrainingJob>>, ValidationProblem> List(IJobStore jobs, [AsParameters] JobListQuery query)
    {
        return query.ReadStatus(out var wanted) is { } problem ? problem : TypedResults.Ok(jobs.List(wanted, query.Limit));
    }

    private static Results<Ok<TrainingJob>, ProblemHttpResult> Get(string id, IJobStore jobs) =>
        Ids.IsJobId(id) && jobs.Get(id) is { } job ? TypedResults.Ok(job) : NotFound(id);

    private static Results<Accepted<TrainingJob>, ProblemHttpResult> Cancel(string id, IJobStore jobs)
    {
        if (!Ids.IsJobId(id) || jobs.Get(id) is not { } job)
        {
            return NotFound(id);
        }
        if (job.Status == JobStatus.Queued && jobs.TryCancelQueued(id, TrainingWorker.CancelledByRequest))
        {
            return TypedResults.Accepted(Location(id), jobs.Get(id)!);
        }
        if (jobs.RequestCancel(id))
        {
            return TypedResults.Accepted(Location(id), jobs.Get(id)!);
        }
        job = jobs.Get(id)!;
        return Problems.Conflict($"Training job '{id}' has already finished ({WireNames.Of(job.Status)}).");
    }

    private static string Location(string id) => $"/api/v1/training-jobs/{id}";

    private static ProblemHttpResult NotFound(string id) => Problems.NotFound($"No training job with id '{id}'.");
}

/// <summary>The query of "List training jobs": the range and default of <see cref="Limit"/> are checked by minimal-API
/// validation and reported by the OpenAPI document from these declarations. Public because .NET 10's validation
/// generator only picks up public types.</summary>
public sealed record JobListQuery(
    [FromQuery(Name = "status")] string? Status = null,
    [FromQuery(Name = "limit")][Range(1, TrainingEndpoints.MaxListLimit, ErrorMessage = "'limit' must be between {1} and {2}.")]
    int Limit = TrainingEndpoints.DefaultListLimit)
{
    /// <summary>The status filter by its wire name (query binding would parse an enum by its C# name), or the 400 naming it.</summary>
    internal ValidationProblem? ReadStatus(out JobStatus? status)
    {
        status = null;
        if (Status is null)
        {
            return null;
        }
        if (!WireNames.TryParse<JobStatus>(Status, out var parsed))
        {
            return Problems.Invalid("status", $"Unknown status '{Status}'; use one of: {string.Join(", ", WireNames.All<JobStatus>())}.");
        }
        status = parsed;
        return null;
    }
}
