using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// The merge-patch body in the OpenAPI document: <c>TherapyInput</c>'s members, none required (a
/// patch names only what it changes), so generated clients and validating proxies accept
/// <c>{"vectorDetail": "AAV9"}</c>. A member that may be null in a therapy may be cleared with null.
/// </summary>
internal static class TherapyPatchSchema
{
    public const string Name = "TherapyPatch";

    public static void Describe(OpenApiOperation operation, OperationFilterContext context)
    {
        if (!context.SchemaRepository.Schemas.ContainsKey(Name))
        {
            context.SchemaGenerator.GenerateSchema(typeof(TherapyInput), context.SchemaRepository);
            var input = (OpenApiSchema)context.SchemaRepository.Schemas[nameof(TherapyInput)];
            var patch = (OpenApiSchema)input.CreateShallowCopy();
            patch.Required = new HashSet<string>();
            patch.Description = "A JSON Merge Patch (RFC 7396) of a therapy: only the members to change; null clears a member that may be null. " +
                                "Server-managed members read from the service (id, version, timestamps) may be sent back unchanged.";
            patch.Example = new JsonObject { ["vectorDetail"] = "AAV9" };
            context.SchemaRepository.Schemas[Name] = patch;
        }

        if (operation.RequestBody is OpenApiRequestBody body && body.Content is { } content)
        {
            foreach (var media in content.Values)
            {
                media.Schema = new OpenApiSchemaReference(Name, context.Document);
            }
        }
    }
}
