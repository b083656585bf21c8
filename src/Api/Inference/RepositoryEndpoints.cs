using Microsoft.AspNetCore.Http.HttpResults;

namespace ModelService.Api.Inference;

/// <summary>Triton's model configuration: the batch dimension is implicit (<see cref="MaxBatchSize"/> is
/// Predictions:MaxRows), so dims leave it out.</summary>
internal sealed record ModelConfig(string Name, string Platform, string Backend, long MaxBatchSize, IReadOnlyList<ConfigTensor> Input,
    IReadOnlyList<ConfigTensor> Output, VersionPolicy VersionPolicy);

internal sealed record ConfigTensor(string Name, string DataType, IReadOnlyList<long> Dims);

internal sealed record VersionPolicy(SpecificVersions Specific);

internal sealed record SpecificVersions(IReadOnlyList<string> Versions);

/// <summary>One row of Triton's repository index: a model version and whether it can serve.</summary>
internal sealed record RepositoryEntry(string Name, string Version, string State, string Reason);

/// <summary>Triton's model configuration, statistics and repository index extensions, filled from the model registry and
/// <see cref="InferenceStatistics"/>.</summary>
internal static class RepositoryEndpoints
{
    public static RouteGroupBuilder MapInferenceRepository(this RouteGroupBuilder group)
    {
        group.MapGet("/models/{name}/config", (string name, InferenceServer server) => Config(name, null, server))
            .WithName("OipModelConfig").WithSummary("Model configuration (Triton's model_configuration extension)")
            .WithDescription("{name, platform, backend, max_batch_size, input, output, version_policy}: max_batch_size is "
                + "Predictions:MaxRows and dims leave out the batch dimension, as Triton's configuration does.");
        group.MapGet("/models/{name}/versions/{version}/config", (string name, string version, InferenceServer server) =>
                Config(name, version, server))
            .WithName("OipModelVersionConfig").WithSummary("Configuration of one model version")
            .WithDescription("As the model configuration, for the model whose id is {version}; 404 {\"error\"} for an unknown one.");

        group.MapGet("/models/stats", (InferenceServer server) => Stats(null, null, server))
            .WithName("OipStats").WithSummary("Statistics of every model version (Triton's statistics extension)")
            .WithDescription("{model_stats: [{name, version, last_inference, inference_count, execution_count, inference_stats}]}: "
                + "since start-up, per model version; inference_count counts rows, execution_count requests, and each "
                + "inference_stats phase its count and cumulative nanoseconds.");
        group.MapGet("/models/{name}/stats", (string name, InferenceServer server) => Stats(name, null, server))
            .WithName("OipModelStats").WithSummary("Statistics of the model's versions")
            .WithDescription("The statistics of every valid version of the model; 404 {\"error\"} for another model name.");
        group.MapGet("/models/{name}/versions/{version}/stats", (string name, string version, InferenceServer server) =>
                Stats(name, version, server))
            .WithName("OipModelVersionStats").WithSummary("Statistics of one model version")
            .WithDescription("The statistics of the model whose id is {version}; 404 {\"error\"} for an unknown one.");

        group.MapPost("/repository/index", (InferenceServer server) => InferenceEndpoints.Json(Index(server),
                InferenceJsonContext.Readable.IReadOnlyListRepositoryEntry))
            .WithName("OipRepositoryIndex").WithSummary("Repository index (Triton's model_repository extension)")
            .WithDescription("[{name, version, state, reason}], one per stored model: READY when it can be loaded, UNAVAILABLE with "
                + "the reason otherwise. Any request body is ignored.");
        return group;
    }

    private static Results<JsonHttpResult<ModelConfig>, JsonHttpResult<InferError>> Config(string name, string? version, InferenceServer server)
    {
        if (server.Resolve(name, version) is not { } model)
        {
            return InferenceEndpoints.Error(server.Unknown(name, version), StatusCodes.Status404NotFound);
        }
        var versions = string.IsNullOrEmpty(version)
            ? server.Registry.List().Where(e => e.IsValid).Select(e => e.Id).ToList()
            : [model.Manifest.Id];
        return InferenceEndpoints.Json(new ModelConfig(server.ModelName, InferenceServer.Platform, "", server.MaxRows,
                [new ConfigTensor(InferTensors.InputName, "TYPE_" + InferenceServer.InputDatatype(model.Manifest).Replace("BYTES", "STRING",
                    StringComparison.Ordinal), InferenceServer.InputDims(model.Manifest))],
                [new ConfigTensor(InferTensors.OutputName, "TYPE_FP64", InferenceServer.OutputDims(model.Manifest))],
                new VersionPolicy(new SpecificVersions(versions))),
            InferenceJsonContext.Readable.ModelConfig);
    }

    private static Results<JsonHttpResult<ModelStatistics>, JsonHttpResult<InferError>> Stats(string? name, string? version,
        InferenceServer server)
    {
        if (name is not null && !string.IsNullOrEmpty(version) && server.Resolve(name, version) is null)
        {
            return InferenceEndpoints.Error(server.Unknown(name, version), StatusCodes.Status404NotFound);
        }
        if (name is not null && !string.Equals(name, server.ModelName, StringComparison.Ordinal))
        {
            return InferenceEndpoints.Error(server.Unknown(name, null), StatusCodes.Status404NotFound);
        }
        var versions = string.IsNullOrEmpty(version)
            ? server.Registry.List().Where(e => e.IsValid).Select(e => e.Id)
            : [version];
        return InferenceEndpoints.Json(new ModelStatistics([.. versions.Select(v => server.Statistics.Describe(server.ModelName, v))]),
            InferenceJsonContext.Readable.ModelStatistics);
    }

    private static IReadOnlyList<RepositoryEntry> Index(InferenceServer server) =>
        [.. server.Registry.List().Select(e => new RepositoryEntry(server.ModelName, e.Id, e.IsValid ? "READY" : "UNAVAILABLE",
            e.Error ?? ""))];
}
