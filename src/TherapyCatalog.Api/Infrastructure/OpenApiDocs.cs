using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>Endpoint metadata: something a feature says about one of its operations in the OpenAPI document.</summary>
public sealed class OpenApiOperationDoc(Action<OpenApiOperation, OperationFilterContext> apply)
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context) => apply(operation, context);
}

/// <summary>Endpoint metadata: the endpoint never touches the database, so it has no 503 answer.</summary>
public sealed class WithoutDatabaseMetadata;

/// <summary>
/// How features describe their own operations: parameters (description, vocabulary, example,
/// format, range) and response headers, attached to the endpoint (or its group) where it is mapped.
/// The OpenAPI conventions (<see cref="OpenApi"/>) apply them before their own rules, in the order given.
/// </summary>
public static class OpenApiDocs
{
    public static TBuilder WithOpenApiDoc<TBuilder>(this TBuilder builder, Action<OpenApiOperation, OperationFilterContext> apply)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new OpenApiOperationDoc(apply));

    /// <summary>
    /// Describes the parameter <paramref name="name"/> where the operation has it: a description (replacing
    /// any other), the closed vocabulary of its values (of its items, for a repeatable parameter), an
    /// example, a string format, an integer range.
    /// </summary>
    public static TBuilder WithParameterDoc<TBuilder>(
        this TBuilder builder, string name, string? description = null, IReadOnlyList<string>? values = null,
        Func<JsonNode>? example = null, string? format = null, (int Minimum, int Maximum)? range = null)
        where TBuilder : IEndpointConventionBuilder => builder.WithOpenApiDoc((operation, _) =>
    {
        if (operation.Parameters?.OfType<OpenApiParameter>().FirstOrDefault(p => p.Name == name) is not { } parameter)
        {
            return;
        }

        if (description is not null)
        {
            parameter.Description = description;
        }

        if (example is not null)
        {
            parameter.Example = example();
        }

        if (parameter.Schema is not OpenApiSchema schema)
        {
            return;
        }

        if (values is not null && (schema.Type?.HasFlag(JsonSchemaType.Array) == true ? schema.Items as OpenApiSchema : schema) is { } items)
        {
            items.Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v)!)];
        }

        if (format is not null)
        {
            schema.Format = format;
        }

        if (range is var (minimum, maximum))
        {
            schema.Type = JsonSchemaType.Integer;
            schema.Format = "int32";
            schema.Minimum = minimum.ToString(System.Globalization.CultureInfo.InvariantCulture);
            schema.Maximum = maximum.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    });

    /// <summary>Declares a response header of the answers with the given statuses.</summary>
    public static TBuilder WithResponseHeader<TBuilder>(this TBuilder builder, string name, string description, params int[] statuses)
        where TBuilder : IEndpointConventionBuilder => builder.WithOpenApiDoc((operation, _) =>
    {
        foreach (var status in statuses)
        {
            if (operation.Responses?.GetValueOrDefault(status.ToString(System.Globalization.CultureInfo.InvariantCulture)) is OpenApiResponse answer)
            {
                (answer.Headers ??= new Dictionary<string, IOpenApiHeader>())[name] = Header(description);
            }
        }
    });

    /// <summary>Declares a request header the operation reads (If-Match, Idempotency-Key, ...), so generated clients and Swagger UI offer it.</summary>
    public static TBuilder WithHeaderParameter<TBuilder>(this TBuilder builder, string name, string description, string? example = null)
        where TBuilder : IEndpointConventionBuilder => builder.WithOpenApiDoc((operation, _) =>
    {
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = name, In = ParameterLocation.Header, Required = false, Description = description,
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            Example = example is null ? null : JsonValue.Create(example),
        });
    });

    /// <summary>The endpoint never touches the database.</summary>
    public static TBuilder WithoutDatabase<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new WithoutDatabaseMetadata());

    public static OpenApiHeader Header(string description) =>
        new() { Description = description, Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
}
