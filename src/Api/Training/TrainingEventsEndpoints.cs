using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.HttpResults;
using ModelService.Api.Auth;
using ModelService.Api.Errors;
using ModelService.Api.Storage;

namespace ModelService.Api.Training;

/// <summary>The final event of a job's stream.</summary>
internal sealed record OutcomeEvent(JobStatus Status, string? ModelId, string? Error, int Epochs);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(EpochEvent))]
[JsonSerializable(typeof(OutcomeEvent))]
internal sealed partial class TrainingEventsJsonContext : JsonSerializerContext;

internal static class TrainingEventsEndpoints
{
    public const string EpochEventType = "epoch";
    public const string OutcomeEventType = "outcome";

    /// <summary>How long the stream waits for an epoch published in this process before reading the job from the store:
    /// the job may run on another worker, or end without publishing (cancelled while queued, say).</summary>
    private static readonly TimeSpan StoreCheckInterval = TimeSpan.FromMilliseconds(500);

    public static RouteHandlerBuilder MapTrainingEvents(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/api/v1/training-jobs/{id}/events", Follow).WithTags("Training jobs").WithName("FollowTrainingJob")
            .WithSummary("Follow a training job as Server-Sent Events")
            .WithDescription("text/event-stream: one \"epoch\" event per finished epoch ({epoch, epochs, trainLoss, validationLoss, "
                + "elapsedSeconds}), the epochs so far first for a late follower, then one \"outcome\" event ({status, modelId, "
                + "error, epochs}) when the job ends, after which the stream closes. Any replica can follow a job running on any "
                + "worker: epochs of a job running elsewhere are read from the store about twice a second. elapsedSeconds is null "
                + "for epochs read from the store rather than published by this process's own worker.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiPolicies.Read);

    private static Results<ServerSentEventsResult<string>, ProblemHttpResult> Follow(
        string id, IJobStore jobs, TrainingEvents events, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        if (!Ids.IsJobId(id) || jobs.Get(id) is null)
        {
            return Problems.NotFound($"No training job with id '{id}'.");
        }
        return TypedResults.ServerSentEvents(Stream(id, jobs, events, lifetime.ApplicationStopping, cancellationToken));
    }

    /// <summary>The job's events until it ends, or until this process begins to stop: then the stream ends at once rather
    /// than hold the shutdown for the host's whole timeout, and the client reconnects (to another replica behind a
    /// load balancer) and gets the epochs so far and the live ones from there.</summary>
    private static async IAsyncEnumerable<SseItem<string>> Stream(string id, IJobStore jobs, TrainingEvents events,
        CancellationToken stopping, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var subscription = events.Follow(id);
        var sent = 0;
        foreach (var epoch in subscription.History)
        {
            sent = epoch.Epoch;
            yield return Epoch(epoch);
        }
        while (true)
        {
            var woke = await WaitAsync(subscription.Reader, stopping, cancellationToken);
            while (subscription.Reader.TryRead(out var epoch))
            {
                if (epoch.Epoch > sent)
                {
                    sent = epoch.Epoch;
                    yield return Epoch(epoch);
                }
            }
            if (woke == Wake.Stopping)
            {
                yield break;
            }
            if (woke == Wake.Data)
            {
                continue;
            }
            // No epoch published in this process for a while: the job may run on another worker (its epochs reach the
            // store), or have ended without publishing.
            if (TryGet(jobs, id) is not { } read)
            {
                continue;
            }
            if (read.Job is not { } job)
            {
                yield break;
            }
            foreach (var stored in job.History.Where(e => e.Epoch > sent))
            {
                sent = stored.Epoch;
                yield return Epoch(new EpochEvent(stored.Epoch, job.Progress.Epochs, stored.TrainLoss, stored.ValidationLoss, null));
            }
            if (job.Status.IsFinished())
            {
                var outcome = new OutcomeEvent(job.Status, job.ModelId, job.Error, job.History.Count);
                yield return new SseItem<string>(JsonSerializer.Serialize(outcome, TrainingEventsJsonContext.Default.OutcomeEvent),
                    OutcomeEventType);
                yield break;
            }
        }
    }

    /// <summary>The job as stored, or null while the store is unreachable (the stream waits for it to come back).</summary>
    private static StoredJob? TryGet(IJobStore jobs, string id)
    {
        try
        {
            return new StoredJob(jobs.Get(id));
        }
        catch (StoreUnavailableException)
        {
            return null;
        }
    }

    private sealed record StoredJob(TrainingJob? Job);

    private enum Wake
    {
        Data,
        Timeout,
        Completed,
        Stopping,
    }

    private static async Task<Wake> WaitAsync(ChannelReader<EpochEvent> reader, CancellationToken stopping, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        timeout.CancelAfter(StoreCheckInterval);
        try
        {
            return await reader.WaitToReadAsync(timeout.Token) ? Wake.Data : Wake.Completed;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return stopping.IsCancellationRequested ? Wake.Stopping : Wake.Timeout;
        }
    }

    private static SseItem<string> Epoch(EpochEvent epoch) =>
        new(JsonSerializer.Serialize(epoch, TrainingEventsJsonContext.Default.EpochEvent), EpochEventType)
        {
            EventId = epoch.Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
}
