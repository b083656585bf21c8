using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ModelService.Api.Json;
using ModelService.Api.Auth;
using ModelService.Api.Storage;
using ModelService.Api.Training;

namespace ModelService.Api.Sweeps;

/// <summary>The sweep's Server-Sent Events and their keys (the event id): "trial-epoch" (a run's epoch), "trial-end" (a
/// trial whose runs have all finished) and "sweep-end" (the last event).</summary>
internal static class SweepEventItems
{
    public const string EpochType = "trial-epoch";
    public const string TrialEndType = "trial-end";
    public const string SweepEndType = "sweep-end";

    public static SseItem<string> Epoch(SweepPlan plan, int run, int epoch, int epochs, double trainLoss, double? validationLoss)
    {
        var item = new TrialEpochEvent(run / plan.RunsPerTrial, plan.Request.Folds is null ? null : run % plan.RunsPerTrial, epoch, epochs,
            trainLoss, validationLoss);
        return new SseItem<string>(JsonSerializer.Serialize(item, ApiJsonContext.Default.TrialEpochEvent), EpochType)
        {
            EventId = string.Create(CultureInfo.InvariantCulture, $"epoch:{run}:{epoch}"),
        };
    }

    public static SseItem<string> TrialEnd(int trial, SweepOutcome outcome, IReadOnlyList<int> runs)
    {
        var (score, spread) = SweepProgress.Score(outcome, runs);
        var error = runs.Select(r => outcome.RunErrors[r]).FirstOrDefault(e => e is not null);
        var item = new TrialEndEvent(trial, error is null ? JobStatus.Succeeded : JobStatus.Failed, score, spread, error);
        return new SseItem<string>(JsonSerializer.Serialize(item, ApiJsonContext.Default.TrialEndEvent), TrialEndType)
        {
            EventId = string.Create(CultureInfo.InvariantCulture, $"trial:{trial}"),
        };
    }

    public static SseItem<string> SweepEnd(SweepJob sweep)
    {
        var item = new SweepEndEvent(sweep.Status, sweep.BestModelId, sweep.Error,
            SweepProgress.Leaderboard(sweep.Plan, sweep.Outcome ?? SweepOutcome.Empty(sweep.Plan)));
        return new SseItem<string>(JsonSerializer.Serialize(item, ApiJsonContext.Default.SweepEndEvent), SweepEndType) { EventId = "end" };
    }
}

/// <summary>Follows a sweep as <see cref="Training.TrainingEventsEndpoints"/> follows a job: the events published in this
/// process so far and as they come, and whenever none came for a while, what the store has (the sweep may run on another
/// worker, or have ended without publishing); each event is sent once, and the stream closes after "sweep-end".</summary>
internal static class SweepEventStream
{
    private static readonly TimeSpan StoreCheckInterval = TimeSpan.FromMilliseconds(500);

    public static async IAsyncEnumerable<SseItem<string>> Follow(string id, ISweepStore sweeps, SweepEvents events,
        CancellationToken stopping, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var subscription = events.Follow(id);
        var sent = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in subscription.History)
        {
            sent.Add(item.EventId!);
            yield return item;
        }
        while (true)
        {
            var woke = await WaitAsync(subscription, stopping, cancellationToken);
            while (subscription.Reader.TryRead(out var item))
            {
                if (sent.Add(item.EventId!))
                {
                    yield return item;
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
            SweepJob? sweep;
            try
            {
                sweep = sweeps.GetSweep(id);
            }
            catch (StoreUnavailableException)
            {
                continue;
            }
            if (sweep is null)
            {
                yield break;
            }
            foreach (var item in Stored(sweep).Where(i => sent.Add(i.EventId!)))
            {
                yield return item;
            }
            if (sweep.Status.IsFinished())
            {
                yield return SweepEventItems.SweepEnd(sweep);
                yield break;
            }
            if (woke == Wake.Completed)
            {
                // This process's run ended without finishing the sweep (handed back at shutdown): poll the store.
                await Task.Delay(StoreCheckInterval, cancellationToken);
            }
        }
    }

    private static IEnumerable<SseItem<string>> Stored(SweepJob sweep)
    {
        var plan = sweep.Plan;
        var outcome = sweep.Outcome ?? SweepOutcome.Empty(plan);
        var planned = plan.Trials.Select(t => t.Epochs).ToArray();
        foreach (var epoch in sweep.Epochs)
        {
            yield return SweepEventItems.Epoch(plan, epoch.Run, epoch.Epoch, planned[epoch.Run / plan.RunsPerTrial], epoch.TrainLoss,
                epoch.ValidationLoss);
        }
        for (var t = 0; t < plan.Trials.Count; t++)
        {
            var runs = Enumerable.Range(t * plan.RunsPerTrial, plan.RunsPerTrial).ToArray();
            if (runs.All(r => outcome.RunScores[r] is not null || outcome.RunErrors[r] is not null))
            {
                yield return SweepEventItems.TrialEnd(t, outcome, runs);
            }
        }
    }

    private enum Wake
    {
        Data,
        Timeout,
        Completed,
        Stopping,
    }

    private static async Task<Wake> WaitAsync(EventFeeds<SseItem<string>>.Subscription subscription, CancellationToken stopping, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        timeout.CancelAfter(StoreCheckInterval);
        try
        {
            return await subscription.Reader.WaitToReadAsync(timeout.Token) ? Wake.Data : Wake.Completed;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return stopping.IsCancellationRequested ? Wake.Stopping : Wake.Timeout;
        }
    }
}
