using System.ComponentModel.DataAnnotations;

namespace ModelService.Api.Inference;

/// <summary>Open Inference Protocol settings (section "Inference").</summary>
internal sealed class InferenceOptions
{
    public const string Section = "Inference";

    /// <summary>The model name clients put in <c>/v2/models/{name}</c>; versions are model ids.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    public string ModelName { get; set; } = "modelservice";

    /// <summary>The HTTP/2 (cleartext) port gRPC listens on, on every interface, beside the HTTP/1 URLs; 0 turns the
    /// listener off (gRPC is then reachable only where HTTP/2 already is).</summary>
    [Range(0, 65535)]
    public int GrpcPort { get; set; } = 8081;
}
