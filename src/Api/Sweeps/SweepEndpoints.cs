using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ModelService.Api.Auth;
using ModelService.Api.Datasets;
using ModelService.Api.Errors;
using ModelService.Api.Limits;
using ModelService.Api.OpenApi;
using ModelService.Api.Storage;
using ModelService.Api.Training;
using ModelService.Model.Network;
using ModelService.Model.Sweeps;
using ModelService.Model.Training;

namespace ModelService.Api.Sweeps;

internal static class SweepEndpoints
{
    public const string GridExample = """
        {"datasetId": "ds_replace_me_", "target": "price",
         "base": {"hiddenChannels": [16, 8], "epochs": 50, "batchSize": 16, "validationFraction": 0.2, "seed": 42},
         "grid": {"learningRate": [0.0003, 0.001, 0.003, 0.01], "weightDecay": [0, 0.0001, 0.001, 0.01]},
         "metric": "rmse", "keep": 1, "activateBest": false}
        """;

    public const string RandomExample = """
        {"datasetId": "ds_replace_me_", "target": "price", "base": {"epochs": 30, "batchSize": 32}, "folds": 3,
         "random": {"trials": 8, "seed": 1, "learningRate": {"min": 0.0001, "max": 0.01}, "weightDecay": {"min": 0.00001, "max": 0.01},
                    "hiddenChannels": [[16, 8], [32, 16]]},
         "metric": "mae", "keep": 2}
        """;

    public static IServiceCollection AddSweeps(this IServiceCollection services)
    {
        services.AddOptions<SweepOptions>().BindConfiguration(SweepOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // Each provider's job store keeps the sweeps too: they share its queue, leases and fencing.
        services.AddSingleton(provider => (ISweepStore)provider.GetRequiredService<IJobStore>());
        services.AddSingleton<SweepEvents>();
        services.AddSingleton<SweepRunner>();
        return services;
    }

    public static RouteGroupBuilder MapSweeps(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/sweeps").WithTags("Sweeps");

        group.MapPost("/", Submit).WithName("SubmitSweep")
            .WithSummary("Queue a hyperparameter sweep")
            .WithDescription("Trains many configurations of one training request and ranks them. base takes any training-job field "
                + "(defaults as for a job); grid lists values to combine (learningRate, weightDecay, hiddenChannels, activation, dropout, "
                + "batchSize, optimizer, learningRateSchedule, epochs, seed), random draws trials (learningRate and weightDecay log-uniform in {min, max}, "
                + "dropout uniform, epochs a uniform integer, hiddenChannels/activation/batchSize/optimizer from lists). folds (2 or "
                + "more) cross-validates each trial, otherwise base.validationFraction scores it. metric rmse (default) or mae; keep "
                + "(default 1) of the best trials become models tagged sweepId, trial and the trial's settings (with folds, trained "
                + "again on every row); activateBest (default false). Trials that share an architecture and batch size train as one "
                + "stacked computation. Limits: Sweeps:MaxTrials, MaxFolds, MaxTotalParameters, MaxTotalEpochs and "
                + "Training:MaxWorkingSetBytes over all runs; a bad field is 400 naming it.")
            .Accepts<SweepRequest>("application/json")
            .WithRequestExample("application/json", "grid", "A 4 x 4 grid of learning rates and weight decays", GridExample)
            .WithRequestExample("application/json", "random", "8 random trials, 3-fold cross-validation", RandomExample)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireAuthorization(ApiPolicies.Write)
            .RequireRateLimiting(RateLimitingSetup.TrainingPolicy);

        group.MapGet("/", List).WithName("ListSweeps")
            .WithSummary("List sweeps, newest first, with their leaderboards (without loss histories)")
            .WithDescription("Optional status filter (queued, running, succeeded, failed, cancelled) and limit (1-1000, default 100).")
            .RequireAuthorization(ApiPolicies.Read);

        group.MapGet("/{id}", Get).WithName("GetSweep")
            .WithSummary("One sweep: status, each trial's progress and loss history per run, and the leaderboard")
            .WithDescription("The leaderboard ranks the finished trials by the metric on their validation rows (mean over folds, lowest "
                + "first; spread is the sample standard deviation over folds). A sweep is claimed by one worker like a job, with the "
                + "same lease, restart (Training:MaxAttempts) and cancel semantics.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiPolicies.Read);

        group.MapPost("/{id}/cancel", Cancel).WithName("CancelSweep")
            .WithSummary("Cancel a sweep")
            .WithDescription("A queued sweep becomes cancelled at once; a running one stops at its next batch. 409 when it has finished.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiPolicies.Write);

        group.MapGet("/{id}/events", Follow).WithName("FollowSweep")
            .WithSummary("Follow a sweep as Server-Sent Events")
            .WithDescription("text/event-stream: \"trial-epoch\" ({trial, fold, epoch, epochs, trainLoss, validationLoss}) per run's "
                + "epoch, \"trial-end\" ({trial, status, score, spread, error}) when a trial's runs have all finished, then "
                + "\"sweep-end\" ({status, bestModelId, error, leaderboard}), after which the stream closes. A late follower gets the "
                + "events so far first.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiPolicies.Read);

        return group;
    }

    private static Results<Accepted<Sweep>, ValidationProblem, ProblemHttpResult> Submit(
        SweepRequest? request, IDatasetStore datasets, ISweepStore sweeps, IOptions<TrainingQueueOptions> training,
        IOptions<SweepOptions> limits, HttpContext http)
    {
        if (request is null)
        {
            return Problems.Invalid("body", "Send a SweepRequest: at least datasetId, target and a grid or random.");
        }
        var datasetId = request.DatasetId ?? request.Base?.DatasetId;
        if (string.IsNullOrEmpty(datasetId))
        {
            return Problems.Invalid("datasetId", "'datasetId' is required.");
        }
        if (!Ids.IsDatasetId(datasetId))
        {
            return Problems.Invalid("datasetId", $"'{datasetId}' is not a dataset id.");
        }
        if (datasets.Get(datasetId) is not { } dataset)
        {
            return Problems.NotFound("datasetId", $"No dataset with id '{datasetId}'.");
        }
        var (plan, errors) = SweepPlanner.Plan(request, dataset, training.Value, limits.Value);
        if (plan is null)
        {
            return Problems.Invalid(errors);
        }
        var created = sweeps.CreateSweep(plan, training.Value.QueueCapacity);
        if (created.Result == JobCreationResult.DatasetMissing)
        {
            return Problems.NotFound("datasetId", $"No dataset with id '{datasetId}'.");
        }
        if (created.Result == JobCreationResult.QueueFull)
        {
            http.Response.Headers.RetryAfter = training.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem($"The training queue is full ({training.Value.QueueCapacity} jobs); try again later.",
                statusCode: StatusCodes.Status503ServiceUnavailable, title: "Training queue full");
        }
        return TypedResults.Accepted(Location(created.Sweep!.Id), SweepProgress.ToView(created.Sweep));
    }

    private static Results<Ok<IReadOnlyList<Sweep>>, ValidationProblem> List(ISweepStore sweeps, [AsParameters] JobListQuery query) =>
        query.ReadStatus(out var status) is { } problem
            ? problem
            : TypedResults.Ok<IReadOnlyList<Sweep>>([.. sweeps.ListSweeps(status, query.Limit).Select(SweepProgress.ToView)]);

    private static Results<Ok<Sweep>, ProblemHttpResult> Get(string id, ISweepStore sweeps) =>
        Ids.IsSweepId(id) && sweeps.GetSweep(id) is { } sweep ? TypedResults.Ok(SweepProgress.ToView(sweep)) : NotFound(id);

    private static Results<Accepted<Sweep>, ProblemHttpResult> Cancel(string id, ISweepStore sweeps, IJobStore jobs)
    {
        if (!Ids.IsSweepId(id) || sweeps.GetSweep(id) is not { } sweep)
        {
            return NotFound(id);
        }
        if ((sweep.Status == JobStatus.Queued && jobs.TryCancelQueued(id, TrainingWorker.CancelledByRequest)) || jobs.RequestCancel(id))
        {
            return TypedResults.Accepted(Location(id), SweepProgress.ToView(sweeps.GetSweep(id)!));
        }
        return Problems.Conflict($"Sweep '{id}' has already finished ({sweeps.GetSweep(id)!.Status}).");
    }

    private static Results<ServerSentEventsResult<string>, ProblemHttpResult> Follow(
        string id, ISweepStore sweeps, SweepEvents events, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        if (!Ids.IsSweepId(id) || sweeps.GetSweep(id) is null)
        {
            return NotFound(id);
        }
        return TypedResults.ServerSentEvents(SweepEventStream.Follow(id, sweeps, events, lifetime.ApplicationStopping, cancellationToken));
    }

    private static string Location(string id) => $"/api/v1/sweeps/{id}";

    private static ProblemHttpResult NotFound(string id) => Problems.NotFound($"No sweep with id '{id}'.");
}
