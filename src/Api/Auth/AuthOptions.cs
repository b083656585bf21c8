namespace ModelService.Api.Auth;

/// <summary>API keys (section "Auth"). With no key configured, Development leaves writes open (with a warning at
/// start-up); every other environment requires the key stored under the storage root (<see cref="ApiKeyFile"/>,
/// generated at first start) unless <see cref="AllowAnonymousWrites"/> is set.</summary>
internal sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>Keys accepted in the X-Api-Key header for writes (and reads when <see cref="RequireKeyForReads"/>).</summary>
    public IReadOnlyList<string> ApiKeys { get; set; } = [];

    /// <summary>Also require a key for reads and predictions (only when a key is configured).</summary>
    public bool RequireKeyForReads { get; set; }

    /// <summary>Outside Development with no key configured, accept writes from anyone instead of generating a key.</summary>
    public bool AllowAnonymousWrites { get; set; }
}
