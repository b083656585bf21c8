using System.Buffers;
using Microsoft.Extensions.Options;
using ModelService.Api.Errors;

namespace ModelService.Api.Limits;

/// <summary>A request body read whole into memory; release it with <see cref="Dispose"/>. The buffer grows with the
/// bytes that actually arrive (never with the Content-Length a client declares), and a body that grows past
/// <see cref="LimitsOptions.LargeBodyBytes"/> must hold one of <see cref="LimitsOptions.MaxConcurrentLargeBodies"/>
/// slots until it is released and keep arriving at <see cref="LimitsOptions.MinLargeBodyBytesPerSecond"/>, so that
/// slow clients can hold neither many large buffers nor a slot for long.</summary>
internal sealed class RequestBody : IDisposable
{
    private const int InitialBytes = 16 * 1024;

    private byte[] _buffer;
    private bool _pooled;
    private IDisposable? _slot;

    private readonly LargeBodyGate _gate;
    private readonly int _largeBodyBytes;

    private RequestBody(byte[] buffer, bool pooled, int length, IDisposable? slot, LargeBodyGate gate, int largeBodyBytes)
    {
        _buffer = buffer;
        _pooled = pooled;
        Length = length;
        _slot = slot;
        _gate = gate;
        _largeBodyBytes = largeBodyBytes;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <summary>A read-only, seekable stream over the body (valid until <see cref="Dispose"/>).</summary>
    public Stream OpenRead() => new MemoryStream(_buffer, 0, Length, writable: false);

    /// <summary>Reads the body, enforcing <see cref="LimitsOptions.MaxRequestBodyBytes"/> (413) even where the server
    /// does not (the test server, for one); 503 with Retry-After when no large-body slot frees in time, 408 when a large
    /// body arrives too slowly.</summary>
    public static async Task<RequestBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var services = request.HttpContext.RequestServices;
        var limits = services.GetRequiredService<IOptions<LimitsOptions>>().Value;
        var limit = Math.Min(limits.MaxRequestBodyBytes, Array.MaxLength - 1);
        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp((request.ContentLength ?? InitialBytes) + 1, 1, InitialBytes));
        var pooled = true;
        var length = 0;
        IDisposable? slot = null;
        Pace? pace = null;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var size = NextSize(length, request.ContentLength, limit);
                    if (size > limits.LargeBodyBytes && slot is null)
                    {
                        slot = await services.GetRequiredService<LargeBodyGate>().EnterAsync(cancellationToken);
                        pace = new Pace(limits, length);
                    }
                    (buffer, pooled) = Grow(buffer, pooled, length, size, limits.LargeBodyBytes);
                }
                var read = pace is null
                    ? await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)
                    : await pace.ReadAsync(request.Body, buffer.AsMemory(length), length, cancellationToken);
                if (read == 0)
                {
                    return new RequestBody(buffer, pooled, length, slot, services.GetRequiredService<LargeBodyGate>(),
                        limits.LargeBodyBytes);
                }
                length += read;
                if (length > limit)
                {
                    throw TooLarge(limit);
                }
            }
        }
        catch
        {
            if (pooled)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            slot?.Dispose();
            throw;
        }
    }

    /// <summary>Takes a large-body slot, if this body does not hold one yet, before <paramref name="bytes"/> are spent
    /// on what the body expands to (a compressed archive's contents), so that a small body cannot stand for a large
    /// allocation outside the slots. Released with the body.</summary>
    public async Task ReserveAsync(long bytes, CancellationToken cancellationToken)
    {
        if (bytes > _largeBodyBytes && _slot is null)
        {
            _slot = await _gate.EnterAsync(cancellationToken);
        }
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (_pooled && buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        _pooled = false;
        Interlocked.Exchange(ref _slot, null)?.Dispose();
    }

    /// <summary>Double what has arrived, but no more than the declared length (plus one byte, to see the end) or the
    /// limit (plus one, to see it passed): a client must send bytes to make the buffer grow.</summary>
    private static int NextSize(int received, long? declared, long limit)
    {
        var next = Math.Max(2L * received, InitialBytes);
        if (declared is { } d && d >= received)
        {
            next = Math.Min(next, d + 1);
        }
        return (int)Math.Min(next, limit + 1);
    }

    /// <summary>Small buffers come from the shared pool; large ones are plain arrays the GC reclaims, so that the pool
    /// does not keep hundreds of megabytes after a burst of uploads.</summary>
    private static (byte[] Buffer, bool Pooled) Grow(byte[] buffer, bool pooled, int length, int size, long pooledLimit)
    {
        var larger = size <= pooledLimit ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);
        buffer.AsSpan(0, length).CopyTo(larger);
        if (pooled)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return (larger, size <= pooledLimit);
    }

    private static ApiProblemException TooLarge(long limit) =>
        ApiProblemException.TooLarge($"The request body is larger than the limit of {limit} bytes (Limits:MaxRequestBodyBytes).");

    /// <summary>From the moment a body holds a large-body slot, it must keep arriving at the minimum rate (after a grace
    /// period): each read is given until the time the bytes so far would fall behind.</summary>
    private sealed class Pace(LimitsOptions limits, int startBytes)
    {
        private readonly long _start = TimeProvider.System.GetTimestamp();

        public async ValueTask<int> ReadAsync(Stream body, Memory<byte> into, int received, CancellationToken cancellationToken)
        {
            var due = TimeSpan.FromSeconds(limits.LargeBodyGraceSeconds + ((double)(received - startBytes) / limits.MinLargeBodyBytesPerSecond));
            var left = due - TimeProvider.System.GetElapsedTime(_start);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            try
            {
                return await body.ReadAsync(into, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ApiProblemException(StatusCodes.Status408RequestTimeout, "Request timeout",
                    $"The request body arrived slower than {limits.MinLargeBodyBytesPerSecond} bytes per second after its first "
                    + $"{limits.LargeBodyBytes} bytes (Limits:MinLargeBodyBytesPerSecond).");
            }
        }
    }
}
