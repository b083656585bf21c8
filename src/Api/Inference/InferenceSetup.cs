using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ModelService.Api.Auth;
using ModelService.Api.Limits;
using ModelService.Api.Inference.Grpc;

namespace ModelService.Api.Inference;

internal static class InferenceSetup
{
    /// <summary>The protocol's services. Call before <c>AddProblemDetails</c> (<c>AddApiProblemDetails</c>): the problem
    /// details service tries its writers in registration order, and ASP.NET Core documents that a custom writer must be
    /// registered before the framework's default one; <see cref="MapInference"/> checks that it was.</summary>
    public static WebApplicationBuilder AddInference(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProblemDetailsWriter, InferErrorWriter>());
        services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<InferenceStatistics>();
        services.AddSingleton<InferenceServer>();
        services.TryAddSingleton(TimeProvider.System);

        // gzip, deflate (the zlib format, as RFC 9110 has it and Triton's client sends it) and br.
        services.AddRequestDecompression();

        // Stateless, so one instance serves every call instead of one activated per call.
        services.AddSingleton<InferenceGrpcService>();
        services.AddGrpc();
        services.AddGrpcReflection();
        services.AddOptions<global::Grpc.AspNetCore.Server.GrpcServiceOptions>()
            .Configure<IOptions<LimitsOptions>>((grpc, limits) =>
                grpc.MaxReceiveMessageSize = (int)Math.Min(limits.Value.MaxRequestBodyBytes, int.MaxValue));

        builder.WebHost.ConfigureKestrel((context, kestrel) => GrpcListener.Configure(context.Configuration, kestrel));
        return builder;
    }

    /// <summary>Decompresses gzip and deflate request bodies; the decompressed bytes count against the body limit.</summary>
    public static WebApplication UseInference(this WebApplication app)
    {
        app.UseRequestDecompression();
        return app;
    }

    public static WebApplication MapInference(this WebApplication app)
    {
        if (app.Services.GetServices<IProblemDetailsWriter>().FirstOrDefault() is not InferErrorWriter)
        {
            throw new InvalidOperationException("AddInference must be called before AddProblemDetails, so that errors under /v2 "
                + "are written in the protocol's {\"error\"} shape.");
        }
        app.MapInferenceRest();
        app.MapGrpcService<InferenceGrpcService>()
            .RequireAuthorization(ApiPolicies.Read)
            .RequireRateLimiting(RateLimitingSetup.PredictionsPolicy);
        app.MapGrpcReflectionService().RequireAuthorization(ApiPolicies.Read);
        return app;
    }
}
