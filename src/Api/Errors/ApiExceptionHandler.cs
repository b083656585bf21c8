using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using ModelService.Api.Storage;
using ModelService.Model.Serialization;

namespace ModelService.Api.Errors;

/// <summary>Turns every exception into a problem response: bad input keeps its 4xx status and message, anything else
/// is a 500 whose detail reveals nothing about the code.</summary>
internal sealed partial class ApiExceptionHandler(
    IProblemDetailsService problems, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> jsonOptions, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>What a client is told to wait (Retry-After) while the shared store is unreachable: long enough for a
    /// database restart or failover to finish, short enough not to lose much time.</summary>
    public const int StoreRetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            return true;
        }
        var problem = ToProblem(exception, httpContext);
        if (exception is StoreUnavailableException)
        {
            LogStoreUnavailable(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            httpContext.Response.Headers.RetryAfter = StoreRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else if (problem.Status >= StatusCodes.Status500InternalServerError)
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        }
        httpContext.Response.StatusCode = problem.Status!.Value;
        if (exception is ApiProblemException { RetryAfterSeconds: { } retryAfter })
        {
            httpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    private ProblemDetails ToProblem(Exception exception, HttpContext httpContext)
    {
        switch (exception)
        {
            case ApiProblemException api:
                return Problem(api.StatusCode, api.Title, api.Message, api.Field);
            case BadHttpRequestException { InnerException: UnknownWireNameException unknown }:
                return Problem(StatusCodes.Status400BadRequest, "Invalid input", Describe(unknown, httpContext), JsonField(unknown.Path));
            case BadHttpRequestException { InnerException: JsonException json }:
                return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", Describe(json, httpContext), JsonField(json.Path));
            case BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge:
                return Problem(bad.StatusCode, "Payload too large", "The request body is larger than the configured limit.");
            case BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status415UnsupportedMediaType:
                return Problem(bad.StatusCode, "Unsupported media type", bad.Message);
            case BadHttpRequestException bad:
                return Problem(bad.StatusCode, "Bad request", bad.Message);
            case JsonException json:
                return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", Describe(json, httpContext), JsonField(json.Path));
            case StoreUnavailableException:
                return Problem(StatusCodes.Status503ServiceUnavailable, "Storage unavailable",
                    "The database cannot be reached right now; nothing was changed. Predictions with loaded models keep working; "
                    + $"retry after {StoreRetryAfterSeconds} s.");
            default:
                return Problem(StatusCodes.Status500InternalServerError, "Internal server error",
                    "The server failed to handle the request; the error has been logged.");
        }
    }

    private static ProblemDetails Problem(int status, string title, string detail, string? field = null)
    {
        if (field is null)
        {
            return new ProblemDetails { Status = status, Title = title, Detail = detail };
        }
        return new ValidationProblemDetails(Problems.Errors(field, detail)) { Status = status, Title = title, Detail = detail };
    }

    /// <summary>The serializer's messages name .NET types; a client only needs the field and the position.</summary>
    private string Describe(JsonException json, HttpContext httpContext)
    {
        if (json.Path is null)
        {
            return json.Message;
        }
        var field = JsonField(json.Path);
        var position = $"(line {json.LineNumber + 1}, byte {json.BytePositionInLine + 1})";
        if (json.InnerException is JsonException)
        {
            return $"The body is not valid JSON at '{field}' {position}.";
        }
        if (IsBadUtf8(json))
        {
            return $"'{field}' is not valid UTF-8 text {position}.";
        }
        if (json is UnknownWireNameException unknown)
        {
            return $"'{field}' takes one of: {string.Join(", ", unknown.Allowed)}; got {(unknown.Given is null ? "another kind of value" : $"'{unknown.Given}'")} {position}.";
        }
        return IsUnknownProperty(httpContext, json.Path)
            ? $"Unknown property '{field}' {position}."
            : $"'{field}' has a value of the wrong type or out of range {position}.";
    }

    /// <summary>Whether <paramref name="path"/> ends at a property that the endpoint's body type does not have (the
    /// serializer refuses unknown properties), found by walking the type's JSON contract, not by the error's wording.</summary>
    private bool IsUnknownProperty(HttpContext httpContext, string path)
    {
        var options = jsonOptions.Value.SerializerOptions;
        // The exception handler middleware clears the endpoint before handlers run and keeps it in its feature.
        var endpoint = httpContext.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? httpContext.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType is not { } bodyType
            || !options.TryGetTypeInfo(bodyType, out var info))
        {
            return false;
        }
        foreach (var (name, isIndex) in PathSegments(path))
        {
            Type? next;
            if (isIndex || info.Kind == JsonTypeInfoKind.Dictionary)
            {
                next = info.ElementType;
            }
            else if (info.Kind == JsonTypeInfoKind.Object)
            {
                var comparison = options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
                var property = info.Properties.FirstOrDefault(p => string.Equals(p.Name, name, comparison));
                if (property is null)
                {
                    return true;
                }
                next = property.PropertyType;
            }
            else
            {
                return false;
            }
            if (next is null || !options.TryGetTypeInfo(next, out info))
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>The segments of a JSON path as System.Text.Json writes it: <c>$.a[3].b</c> or <c>$['a b']</c>.</summary>
    private static IEnumerable<(string Name, bool IsIndex)> PathSegments(string path)
    {
        var i = path.StartsWith('$') ? 1 : 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? path.Length : end;
                yield return (path[(i + 1)..end], false);
                i = end;
            }
            else if (path[i] == '[' && i + 1 < path.Length && path[i + 1] == '\'')
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                end = end < 0 ? path.Length : end;
                yield return (path[(i + 2)..end], false);
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i + 1);
                end = end < 0 ? path.Length : end;
                yield return (path[(i + 1)..end], true);
                i = end + 1;
            }
            else
            {
                yield break;
            }
        }
    }

    private static bool IsBadUtf8(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is DecoderFallbackException)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>"$.records[3].rooms" names the field "records[3].rooms"; the document itself is "body".</summary>
    private static string JsonField(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "body" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage unavailable while serving {Method} {Path}; answered 503")]
    private static partial void LogStoreUnavailable(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception while serving {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
