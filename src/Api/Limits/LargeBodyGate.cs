using Microsoft.Extensions.Options;
using ModelService.Api.Errors;

namespace ModelService.Api.Limits;

/// <summary>The slots a request body needs to grow past <see cref="LimitsOptions.LargeBodyBytes"/>: with at most
/// <see cref="LimitsOptions.MaxConcurrentLargeBodies"/> held, large bodies cost at most that many times
/// <see cref="LimitsOptions.MaxRequestBodyBytes"/> however many clients send at once.</summary>
internal sealed class LargeBodyGate(IOptions<LimitsOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.Value.MaxConcurrentLargeBodies, options.Value.MaxConcurrentLargeBodies);

    /// <summary>Waits up to <see cref="LimitsOptions.LargeBodyWaitSeconds"/> for a slot; 503 with Retry-After when none
    /// frees in time. Dispose the result to release the slot.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        var limits = options.Value;
        if (!await _slots.WaitAsync(TimeSpan.FromSeconds(limits.LargeBodyWaitSeconds), cancellationToken))
        {
            throw new ApiProblemException(StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                $"{limits.MaxConcurrentLargeBodies} large request bodies are being received (Limits:MaxConcurrentLargeBodies); "
                + "retry later.")
            {
                RetryAfterSeconds = limits.LargeBodyWaitSeconds,
            };
        }
        return new Slot(_slots);
    }

    public void Dispose() => _slots.Dispose();

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}
