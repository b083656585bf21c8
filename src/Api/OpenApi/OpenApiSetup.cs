using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;
using ModelService.Api.Auth;

namespace ModelService.Api.OpenApi;

/// <summary>An example request body shown (and pre-filled) in Swagger UI.</summary>
internal sealed record RequestExampleMetadata(string ContentType, string Example);

/// <summary>One of several named example bodies of an operation, listed in Swagger UI's examples menu.</summary>
internal sealed record NamedRequestExampleMetadata(string ContentType, string Name, string Summary, string Example);

internal static class OpenApiSetup
{
    public static RouteHandlerBuilder WithRequestExample(this RouteHandlerBuilder builder, string contentType, string example) =>
        builder.WithMetadata(new RequestExampleMetadata(contentType, example));

    public static RouteHandlerBuilder WithRequestExample(this RouteHandlerBuilder builder, string contentType, string name, string summary,
        string example) =>
        builder.WithMetadata(new NamedRequestExampleMetadata(contentType, name, summary, example));

    public static IServiceCollection AddApiSwagger(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "ModelService",
                Version = "v1",
                Description = "Train and serve regression models (an MLP of 1x1 convolutions). Upload a dataset, queue a training "
                    + "job, poll it, activate the model it produced and predict. Every error is application/problem+json. "
                    + "Writes need the X-Api-Key header when the service has keys configured (Authorize button).",
            });
            options.AddSecurityDefinition(ApiPolicies.Scheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiPolicies.Header,
                Description = "One of the keys in Auth:ApiKeys. Needed for POST and DELETE under datasets, training jobs and models "
                    + "(and for reads too when Auth:RequireKeyForReads is true).",
            });
            options.OperationFilter<ApiKeyOperationFilter>();
            options.OperationFilter<RequestExampleOperationFilter>();
            options.SchemaFilter<DefaultsSchemaFilter>();
            options.ParameterFilter<ParameterDefaultsFilter>();
            // Inline enums, so a property of an enum type can carry its own default.
            options.UseInlineDefinitionsForEnums();
        });
        return services;
    }

    public static WebApplication UseApiSwagger(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(options =>
        {
            options.SwaggerEndpoint("/swagger/v1/swagger.json", "ModelService v1");
            options.DocumentTitle = "ModelService API";
            options.EnableTryItOutByDefault();
            options.EnablePersistAuthorization();
        });
        return app;
    }

    /// <summary>Marks the operations that need a key, so Swagger UI sends the one entered under Authorize.</summary>
    private sealed class ApiKeyOperationFilter(IOptions<AuthOptions> auth) : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            var policies = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Select(a => a.Policy);
            if (policies.Any(p => p == ApiPolicies.Write || (p == ApiPolicies.Read && auth.Value.RequireKeyForReads)))
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(ApiPolicies.Scheme, context.Document)] = [],
                });
                operation.Responses ??= [];
                operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Missing or invalid X-Api-Key (when keys are configured)." });
            }
        }
    }

    /// <summary>Documents each request body's defaults from a body with nothing set, serialised as the service would:
    /// the defaults the service applies are the only source, so the document cannot disagree with them.</summary>
    private sealed class DefaultsSchemaFilter(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : ISchemaFilter
    {
        private static readonly Dictionary<Type, Func<object>> s_empty = new()
        {
            [typeof(Training.TrainingRequest)] = () => new Training.TrainingRequest(),
        };

        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (!s_empty.TryGetValue(context.Type, out var empty) || schema.Properties is null)
            {
                return;
            }
            var defaults = JsonSerializer.SerializeToNode(empty(), context.Type, json.Value.SerializerOptions)!.AsObject();
            foreach (var (name, property) in schema.Properties)
            {
                if (defaults.TryGetPropertyValue(name, out var value) && value is not null && property is OpenApiSchema concrete)
                {
                    concrete.Default = value.DeepClone();
                }
            }
        }
    }

    /// <summary>Documents an optional parameter's default (a C# default value, as in an [AsParameters] record).</summary>
    private sealed class ParameterDefaultsFilter(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : IParameterFilter
    {
        public void Apply(IOpenApiParameter parameter, ParameterFilterContext context)
        {
            if (context.ParameterInfo is { HasDefaultValue: true, DefaultValue: { } value } && parameter.Schema is OpenApiSchema schema)
            {
                schema.Default = JsonSerializer.SerializeToNode(value, value.GetType(), json.Value.SerializerOptions);
            }
        }
    }

    private sealed class RequestExampleOperationFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            foreach (var example in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<RequestExampleMetadata>())
            {
                if (operation.RequestBody?.Content?.TryGetValue(example.ContentType, out var media) == true && media is OpenApiMediaType concrete)
                {
                    if (example.ContentType.EndsWith("json", StringComparison.Ordinal))
                    {
                        concrete.Example = JsonNode.Parse(example.Example);
                    }
                    else
                    {
                        concrete.Schema = new OpenApiSchema { Type = JsonSchemaType.String };
                        concrete.Example = JsonValue.Create(example.Example);
                    }
                }
            }
            foreach (var example in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<NamedRequestExampleMetadata>())
            {
                if (operation.RequestBody?.Content?.TryGetValue(example.ContentType, out var media) == true && media is OpenApiMediaType concrete)
                {
                    concrete.Examples ??= new Dictionary<string, IOpenApiExample>();
                    concrete.Examples[example.Name] = new OpenApiExample { Summary = example.Summary, Value = JsonNode.Parse(example.Example) };
                }
            }
        }
    }
}
