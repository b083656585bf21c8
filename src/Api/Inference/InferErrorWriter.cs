namespace ModelService.Api.Inference;

/// <summary>Writes every error under <c>/v2</c> (refusals thrown by its handlers, authentication, rate limiting, unknown
/// routes, wrong methods or media types) in the Open Inference Protocol's <c>{"error": "..."}</c> shape, as
/// application/json, so that KServe's and Triton's clients show the message.</summary>
internal sealed class InferErrorWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) =>
        context.HttpContext.Request.Path.StartsWithSegments(InferenceEndpoints.Prefix, StringComparison.OrdinalIgnoreCase);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        // A refusal thrown by a handler carries its own message; routing's and the framework's carry none worth showing.
        var message = (context.Exception is null ? Describe(context.ProblemDetails.Status ?? http.Response.StatusCode, http.Request) : null)
            ?? context.ProblemDetails.Detail ?? context.ProblemDetails.Title ?? $"The request failed with status {http.Response.StatusCode}.";
        return new ValueTask(http.Response.WriteAsJsonAsync(
            new InferError(message), InferenceJsonContext.Readable.InferError, InferenceJsonContext.ContentType, http.RequestAborted));
    }

    /// <summary>What routing refused, in the protocol's terms; null for errors that carry their own detail.</summary>
    private static string? Describe(int status, HttpRequest request) => status switch
    {
        StatusCodes.Status404NotFound => $"No Open Inference Protocol route at '{request.Path}'; see GET /v2 and "
            + "/v2/models/{name}[/versions/{version}]/{ready,infer,config,stats}.",
        StatusCodes.Status405MethodNotAllowed => $"'{request.Path}' does not accept {request.Method}"
            + (request.Path.Value?.EndsWith("/infer", StringComparison.Ordinal) == true || request.Path.Value?.EndsWith("/index",
                StringComparison.Ordinal) == true ? "; use POST." : "; use GET."),
        StatusCodes.Status415UnsupportedMediaType => $"Content-Type '{request.ContentType}' is not accepted; send application/json, "
            + "or application/octet-stream (or no Content-Type) with Inference-Header-Content-Length for binary tensor data.",
        _ => null,
    };
}
