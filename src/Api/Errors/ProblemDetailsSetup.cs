namespace ModelService.Api.Errors;

internal static class ProblemDetailsSetup
{
    /// <summary>Every error, including unknown routes, wrong methods and exceptions, leaves as
    /// application/problem+json with a trace id.</summary>
    public static IServiceCollection AddApiProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Extensions.TryAdd("traceId", context.HttpContext.TraceIdentifier);
            if (context.ProblemDetails.Detail is null && context.ProblemDetails.Status is { } status)
            {
                context.ProblemDetails.Detail = DefaultDetail(status, context.HttpContext.Request);
            }
        });
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return services;
    }

    public static WebApplication UseApiErrorHandling(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    private static string? DefaultDetail(int status, HttpRequest request) => status switch
    {
        StatusCodes.Status404NotFound => $"No resource at '{request.Path}'.",
        StatusCodes.Status405MethodNotAllowed => $"'{request.Path}' does not accept {request.Method}.",
        StatusCodes.Status401Unauthorized => "A valid X-Api-Key header is required.",
        StatusCodes.Status415UnsupportedMediaType => $"Content type '{request.ContentType}' is not accepted here.",
        _ => null,
    };
}
