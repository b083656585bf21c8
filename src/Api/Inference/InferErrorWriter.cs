namespace ModelService.Api.Inference;

/// <summary>Writes errors raised outside the v2 handlers (authentication, rate limiting, unknown routes, exceptions)
/// in the Open Inference Protocol's <c>{"error": "..."}</c> shape for requests under <c>/v2</c>, so a KServe client
/// never sees application/problem+json.</summary>
internal sealed class InferErrorWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) =>
        context.HttpContext.Request.Path.StartsWithSegments(InferenceEndpoints.Prefix, StringComparison.OrdinalIgnoreCase);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var message = problem.Detail ?? problem.Title ?? "The request failed.";
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(
            new InferError(message), InferenceJsonContext.Readable.InferError, contentType: null, context.HttpContext.RequestAborted));
    }
}
