using System.ComponentModel.DataAnnotations;

namespace ModelService.Api.Observability;

/// <summary>Metrics and traces (section "Observability").</summary>
internal sealed class ObservabilityOptions : IValidatableObject
{
    public const string Section = "Observability";

    /// <summary>The service.name resource attribute on exported traces.</summary>
    [Required]
    public string ServiceName { get; set; } = "modelservice";

    /// <summary>OTLP collector address (for example http://otel-collector:4317); traces are exported only when set.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>"grpc" or "http/protobuf".</summary>
    [RegularExpression("^(grpc|http/protobuf)$")]
    public string OtlpProtocol { get; set; } = "grpc";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(OtlpEndpoint)
            && !(Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            yield return new ValidationResult("Observability:OtlpEndpoint must be an http or https URI such as http://collector:4317.",
                [nameof(OtlpEndpoint)]);
        }
    }
}
