namespace ModelService.Api.Inference;

internal static class InferenceSetup
{
    public static IServiceCollection AddInference(this IServiceCollection services)
    {
        // First among the problem writers, so that errors under /v2 from anywhere in the pipeline use {"error"}.
        services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, InferErrorWriter>());
        services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }
}
