using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace ModelService.Api.Auth;

internal static class ApiPolicies
{
    public const string Scheme = "ApiKey";
    public const string Header = "X-Api-Key";
    public const string Read = "ApiRead";
    public const string Write = "ApiWrite";
}

/// <summary>Holds SHA-256 hashes of the accepted keys (never the keys) and compares in constant time. The configured
/// keys are known at construction; a key stored under the storage root is added by <see cref="AddStoredKey"/> during
/// start-up.</summary>
internal sealed class ApiKeys
{
    private volatile byte[][] _hashes;

    public ApiKeys(IOptions<AuthOptions> options)
    {
        _hashes = [.. options.Value.ApiKeys.Where(k => !string.IsNullOrEmpty(k)).Select(Hash)];
        RequireKeyForReads = options.Value.RequireKeyForReads;
    }

    public bool AnyConfigured => _hashes.Length > 0;

    public bool RequireKeyForReads { get; }

    public void AddStoredKey(string key) => _hashes = [.. _hashes, Hash(key)];

    /// <summary>The index of the matching key, or -1. Every key is compared, so the time taken does not tell which matched.</summary>
    public int Match(string presented)
    {
        var hash = Hash(presented);
        var hashes = _hashes;
        var match = -1;
        for (var i = 0; i < hashes.Length; i++)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, hashes[i]))
            {
                match = i;
            }
        }
        return match;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

/// <summary>Authenticates the X-Api-Key header. Whether a key is needed at all is decided by
/// <see cref="ApiKeyRequirementHandler"/>; a missing or wrong key on an endpoint that needs one is a 401 problem.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeys keys,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(ApiPolicies.Header, out var values) || string.IsNullOrEmpty(values.ToString()))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        var match = keys.Match(values.ToString());
        if (match < 0)
        {
            return Task.FromResult(AuthenticateResult.Fail("The X-Api-Key header does not hold a valid key."));
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, $"api-key-{match + 1}")], ApiPolicies.Scheme);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiPolicies.Scheme)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"{ApiPolicies.Scheme} header=\"{ApiPolicies.Header}\"";
        var detail = Request.Headers.ContainsKey(ApiPolicies.Header)
            ? "The X-Api-Key header does not hold a valid key."
            : "This endpoint needs an X-Api-Key header with a valid key.";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = StatusCodes.Status401Unauthorized, Title = "Unauthorized", Detail = detail },
        });
    }
}

/// <summary>Writes need a key whenever one is configured; reads only when Auth:RequireKeyForReads is also set.</summary>
internal sealed record ApiKeyRequirement(bool IsWrite) : IAuthorizationRequirement;

internal sealed class ApiKeyRequirementHandler(ApiKeys keys) : AuthorizationHandler<ApiKeyRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiKeyRequirement requirement)
    {
        var open = !keys.AnyConfigured || (!requirement.IsWrite && !keys.RequireKeyForReads);
        if (open || context.User.Identities.Any(i => i.IsAuthenticated && i.AuthenticationType == ApiPolicies.Scheme))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}
