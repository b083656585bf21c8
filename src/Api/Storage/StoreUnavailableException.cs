namespace ModelService.Api.Storage;

/// <summary>The shared store cannot be reached right now (a database restart, a network partition); answered 503 with
/// Retry-After, and retried by the client.</summary>
internal sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException()
    {
    }

    public StoreUnavailableException(string message)
        : base(message)
    {
    }

    public StoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
