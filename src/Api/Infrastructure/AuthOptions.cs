namespace ModelService.Api.Infrastructure;

/// <summary>API keys (section "Auth"). With no key, writes are open and a warning is logged at start-up.</summary>
internal sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>Keys accepted in the X-Api-Key header for writes (and reads when <see cref="RequireKeyForReads"/>).</summary>
    public IReadOnlyList<string> ApiKeys { get; set; } = [];

    /// <summary>Also require a key for reads and predictions (only when a key is configured).</summary>
    public bool RequireKeyForReads { get; set; }
}
