namespace ModelService.Api.Errors;

/// <summary>Bad input found deep inside a parser; answered as a problem with <see cref="StatusCode"/> and, when a
/// field is named, an <c>errors</c> entry for it.</summary>
internal sealed class ApiProblemException : Exception
{
    public ApiProblemException(int statusCode, string title, string detail, string? field = null)
        : base(detail)
    {
        StatusCode = statusCode;
        Title = title;
        Field = field;
    }

    public ApiProblemException()
        : this(StatusCodes.Status400BadRequest, "Bad request", "The request is invalid.")
    {
    }

    public ApiProblemException(string message)
        : this(StatusCodes.Status400BadRequest, "Bad request", message)
    {
    }

    public ApiProblemException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = StatusCodes.Status400BadRequest;
        Title = "Bad request";
    }

    public int StatusCode { get; }

    public string Title { get; }

    public string? Field { get; }

    /// <summary>Seconds sent as Retry-After (a 503 that will pass).</summary>
    public int? RetryAfterSeconds { get; init; }

    public static ApiProblemException Validation(string field, string detail) =>
        new(StatusCodes.Status400BadRequest, "Invalid input", detail, field);

    public static ApiProblemException TooLarge(string detail) =>
        new(StatusCodes.Status413PayloadTooLarge, "Payload too large", detail);
}
