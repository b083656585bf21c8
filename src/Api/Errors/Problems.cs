using Microsoft.AspNetCore.Http.HttpResults;

namespace ModelService.Api.Errors;

/// <summary>The typed problem results handlers return; every one names what went wrong.</summary>
internal static class Problems
{
    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult NotFound(string field, string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found",
            extensions: new Dictionary<string, object?> { ["errors"] = Errors(field, detail) });

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    public static ValidationProblem Invalid(string field, string detail) =>
        TypedResults.ValidationProblem(Errors(field, detail), detail, title: "Invalid input");

    public static ValidationProblem Invalid(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, string.Join(" ", errors.SelectMany(e => e.Value)), title: "Invalid input");

    public static Dictionary<string, string[]> Errors(string field, string message) => new() { [field] = [message] };
}
