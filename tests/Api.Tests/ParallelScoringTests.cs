using Microsoft.Extensions.Options;
using ModelService.Api.Predictions;

namespace ModelService.Api.Tests;

/// <summary>The one place where request work runs in parallel keeps to its bound across concurrent requests.</summary>
public sealed class ParallelScoringTests
{
    private readonly ParallelScoring _scoring = new(Options.Create(new PredictionOptions { MaxParallelism = 2 }));

    [Fact]
    public void Work_of_concurrent_requests_never_runs_on_more_threads_than_the_bound()
    {
        var running = 0;
        var most = 0;
        bool Item(int index)
        {
            var now = Interlocked.Increment(ref running);
            for (var seen = most; now > seen && Interlocked.CompareExchange(ref most, now, seen) != seen; seen = most)
            {
            }
            Thread.Sleep(2);
            Interlocked.Decrement(ref running);
            return true;
        }

        // Six requests at once, each on a thread of its own (as Kestrel's would be), so that nothing but the bound
        // keeps their items from running side by side.
        var results = new bool[6];
        var callers = Enumerable.Range(0, results.Length).Select(i => new Thread(() => results[i] = _scoring.For(30, Item))).ToArray();
        foreach (var caller in callers)
        {
            caller.Start();
        }
        foreach (var caller in callers)
        {
            caller.Join();
        }

        Assert.All(results, Assert.True);
        Assert.InRange(most, 1, 2);
    }

    [Fact]
    public void An_item_that_declines_stops_the_rest_and_the_caller_is_told()
    {
        // Every item declines, so whichever runs first stops the loop: at most the items already started on the
        // other workers still run (a fixed declining index could be reached last, after every other item ran).
        var ran = 0;

        var completed = _scoring.For(10_000, _ =>
        {
            Interlocked.Increment(ref ran);
            return false;
        });

        Assert.False(completed);
        Assert.InRange(ran, 1, 10);
    }

    [Fact]
    public void An_exception_reaches_the_caller_as_it_was_thrown() =>
        Assert.Throws<ArgumentException>(() => _scoring.For(8, index => index == 5 ? throw new ArgumentException("bad row") : true));
}
