using System.Text.Json;
using System.Text.Json.Serialization;
using ModelService.Bare;

// The framework's floor for the prediction benchmark: the same JSON body in and the same response shape out,
// deserialised with System.Text.Json and answered with a trivial sum instead of a model.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, BareJsonContext.Default));

var app = builder.Build();
app.MapPost("/api/v1/predictions", (BareRequest request) => TypedResults.Ok(new BareResponse(
    "bare", request.Records.Select(r => (500000 * r.SquareFootage) + (100000 * r.Rooms)).ToArray())));
app.Run();

namespace ModelService.Bare
{
    internal sealed record BareRecord(
        [property: JsonPropertyName("square_footage")] double SquareFootage,
        [property: JsonPropertyName("rooms")] double Rooms);

    internal sealed record BareRequest(IReadOnlyList<BareRecord> Records);

    internal sealed record BareResponse(string ModelId, double[] Predictions);

    [JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
    [JsonSerializable(typeof(BareRequest))]
    [JsonSerializable(typeof(BareResponse))]
    internal sealed partial class BareJsonContext : JsonSerializerContext;
}
