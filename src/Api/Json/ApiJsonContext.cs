using System.Text.Json;
using System.Text.Json.Serialization;
using ModelService.Api.Datasets;
using ModelService.Api.Models;
using ModelService.Api.Predictions;
using ModelService.Api.Sweeps;
using ModelService.Api.Training;

namespace ModelService.Api.Json;

/// <summary>Source-generated serialisation for every DTO (camelCase; unknown request properties are errors, so a
/// misspelt option is not silently ignored).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(DatasetInfo))]
[JsonSerializable(typeof(IReadOnlyList<DatasetInfo>))]
[JsonSerializable(typeof(DatasetUpload))]
[JsonSerializable(typeof(TrainingRequest))]
[JsonSerializable(typeof(TrainingJob))]
[JsonSerializable(typeof(IReadOnlyList<TrainingJob>))]
[JsonSerializable(typeof(ModelInfo))]
[JsonSerializable(typeof(ModelInfo[]))]
[JsonSerializable(typeof(PredictionRequest))]
[JsonSerializable(typeof(PredictionResponse))]
[JsonSerializable(typeof(SweepRequest))]
[JsonSerializable(typeof(SweepPlan))]
[JsonSerializable(typeof(SweepOutcome))]
[JsonSerializable(typeof(Sweep))]
[JsonSerializable(typeof(IReadOnlyList<Sweep>))]
[JsonSerializable(typeof(TrialEpochEvent))]
[JsonSerializable(typeof(TrialEndEvent))]
[JsonSerializable(typeof(SweepEndEvent))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
