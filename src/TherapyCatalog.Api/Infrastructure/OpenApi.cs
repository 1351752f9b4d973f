using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// The OpenAPI document (Swashbuckle) at <c>/openapi/v1.json</c> and Swagger UI at <c>/swagger</c>.
/// The conventions every operation shares are added here: the problem+json answers every route can
/// give (429, 500, 503), rate-limit and retry headers, page limits, and the API-key scheme on the
/// routes that need a key. What is particular to a feature (its parameters' vocabularies and
/// examples, its headers, its schema examples) the feature says itself, through
/// <see cref="OpenApiDocs"/> on its endpoints or a filter it registers. Producing the document needs
/// no database.
/// </summary>
public static class OpenApi
{
    public const string DocumentPath = "/openapi/v1.json";
    private const string ApiKeyScheme = "ApiKey";

    public static IServiceCollection AddCatalogOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Therapy Catalog",
                Version = "v1",
                Description = """
                    The catalog of approved cell and gene therapy products: classification (modality, cell source,
                    delivery, mechanism, vector, target, route), indications per regulator, approvals, list prices
                    where public, and the sources of every fact.

                    Reads are anonymous. Writes need an API key in `X-Api-Key` (use **Authorize**). Every error is an
                    RFC 9457 problem document (`application/problem+json`). Pharmacy systems: take `GET /v1/export`
                    once, then follow `GET /v1/changes` from its `X-Catalog-Cursor`.
                    """,
                License = new OpenApiLicense { Name = "Open source; data cites its sources" },
                Contact = new OpenApiContact { Name = "Therapy Catalog maintainers: corrections to the data by pull request (see README, Data)" },
            });
            options.SupportNonNullableReferenceTypes();
            options.NonNullableReferenceTypesAsRequired();
            options.AddSecurityDefinition(ApiKeyScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyAuthentication.Header,
                Description = "An API key with the scope `catalog:write` (therapy writes) or `catalog:admin` (also API keys).",
            });
            options.DocumentFilter<CatalogDocumentFilter>();
            options.OperationFilter<CatalogOperationFilter>();
            options.SchemaFilter<NullableReferenceSchemaFilter>();
            var xml = Path.Combine(AppContext.BaseDirectory, "TherapyCatalog.Api.xml");
            if (File.Exists(xml))
            {
                options.IncludeXmlComments(xml);
            }
        });
        return services;
    }

    public static IApplicationBuilder UseCatalogOpenApi(this IApplicationBuilder app)
    {
        app.UseSwagger(options =>
        {
            options.RouteTemplate = "openapi/{documentName}.json";
            // 3.1: the schemas are JSON Schema 2020-12, so clients and the contract tests validate with them as they are.
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
        });
        app.UseSwaggerUI(options =>
        {
            options.RoutePrefix = "swagger";
            options.SwaggerEndpoint(DocumentPath, "Therapy Catalog v1");
            options.DocumentTitle = "Therapy Catalog API";
            options.EnableTryItOutByDefault();
            options.DisplayRequestDuration();
        });
        return app;
    }

    /// <summary>
    /// The server to call, the problem document schemas every error answer uses, and the tags.
    /// The server is <c>Catalog:PublicBaseUrl</c> when set (absolute, as generated clients want it);
    /// without it <c>/</c>, relative to wherever the document is served from: no absolute address is
    /// right for every deployment, and a wrong one would send Swagger UI's try-it-out and generated
    /// clients elsewhere. The committed document is generated without it, so it is the same everywhere.
    /// </summary>
    private sealed class CatalogDocumentFilter(IOptions<CatalogOptions> options) : IDocumentFilter
    {
        public void Apply(OpenApiDocument document, DocumentFilterContext context)
        {
            document.Servers = [Server(options.Value.PublicBaseUrl)];
            document.Components ??= new OpenApiComponents();
            document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
            var problem = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "An RFC 9457 problem document. `errors` (validation failures, keyed by JSON path or parameter) appears on 400 answers about the input.",
                Required = new HashSet<string> { "type", "title", "status", "detail", "traceId" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A URI naming the kind of problem." },
                    ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
                    ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What went wrong, for a person." },
                    ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Where the service's logs record this answer." },
                    ["errors"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                    },
                },
                Example = new JsonObject
                {
                    ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.5.5",
                    ["title"] = "Therapy not found",
                    ["status"] = 404,
                    ["detail"] = "No therapy has the id or slug 'nope'.",
                    ["traceId"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
                },
            };
            document.Components.Schemas["Problem"] = problem;
            // The resource first, then what serves it; each tag says what it holds.
            document.Tags = new HashSet<OpenApiTag>(
            [
                new() { Name = "Therapies", Description = "The catalog's products: list and search by condition, one therapy, its history, facets, and (with an API key) writes." },
                new() { Name = "Conditions", Description = "The condition vocabulary that searches match: names, synonyms, ICD-10 codes, hierarchy, autocomplete." },
                new() { Name = "Sync", Description = "For formulary systems: a full export, then a gap-free change feed to follow from its cursor." },
                new() { Name = "Health", Description = "Liveness and readiness probes." },
                new() { Name = "API keys", Description = "Minting, listing and revoking the keys that writes need (catalog:admin)." },
            ]);
            foreach (var unused in new[] { "ProblemDetails", "HttpValidationProblemDetails", "JsonNode", "JsonNodeOptions" })
            {
                document.Components.Schemas.Remove(unused);
            }
        }
    }

    /// <summary>The document's one server: the public base URL (without a trailing slash, as links are built from it), else relative.</summary>
    internal static OpenApiServer Server(string? publicBaseUrl) => string.IsNullOrEmpty(publicBaseUrl)
        ? new OpenApiServer { Url = "/", Description = "This server (relative; Catalog:PublicBaseUrl makes it absolute)" }
        : new OpenApiServer { Url = publicBaseUrl.TrimEnd('/'), Description = "The catalog" };

    /// <summary>
    /// Parameters, answers, headers and security of each operation: first what the endpoint's own
    /// feature says (<see cref="OpenApiDocs"/> metadata), then the conventions every operation shares.
    /// </summary>
    private sealed class CatalogOperationFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
            foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
            {
                parameter.Name = JsonNamingPolicy.CamelCase.ConvertName(parameter.Name!);
            }

            foreach (var doc in metadata.OfType<OpenApiOperationDoc>())
            {
                doc.Apply(operation, context);
            }

            if (metadata.OfType<PageLimits>().LastOrDefault() is { } limits
                && operation.Parameters?.OfType<OpenApiParameter>().FirstOrDefault(p => p.Name == "limit") is { Schema: OpenApiSchema schema } limit)
            {
                schema.Type = JsonSchemaType.Integer;
                schema.Format = "int32";
                schema.Minimum = "1";
                schema.Maximum = limits.Max.ToString(CultureInfo.InvariantCulture);
                schema.Default = JsonValue.Create(limits.Default);
                limit.Description = $"Items per page, 1–{limits.Max} (default {limits.Default}).";
            }

            var responses = operation.Responses ??= new OpenApiResponses();
            var touchesDatabase = !metadata.OfType<WithoutDatabaseMetadata>().Any();
            var rateLimited = !metadata.OfType<DisableRateLimitingAttribute>().Any();
            if (rateLimited)
            {
                responses.TryAdd("429", new OpenApiResponse { Description = "Too many requests for this client or key; `Retry-After` says when to retry." });
            }

            if (touchesDatabase)
            {
                responses.TryAdd("503", new OpenApiResponse { Description = "The catalog database cannot be reached; `Retry-After` says when to retry." });
            }

            responses.TryAdd("500", new OpenApiResponse { Description = "An unexpected failure, logged under the answer's `traceId`." });

            foreach (var (status, response) in responses.Select(r => (r.Key, r.Value)).ToList())
            {
                if (response is not OpenApiResponse answer)
                {
                    continue;
                }

                answer.Description = string.IsNullOrEmpty(answer.Description) || answer.Description is "OK" or "Created" or "No Content" or "Bad Request"
                    ? DefaultDescription(status, context.ApiDescription.HttpMethod)
                    : answer.Description;
                if (status is "304" or "204")
                {
                    answer.Content?.Clear();
                }
                else if (status[0] is '4' or '5')
                {
                    answer.Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/problem+json"] = new()
                        {
                            Schema = new OpenApiSchemaReference("Problem", context.Document),
                            Example = ProblemExample(status, context.ApiDescription.HttpMethod),
                        },
                    };
                }

                AddHeaders(answer, status, rateLimited);
            }

            // Anonymous operations say so (security: []), so linters and generated clients do not expect a key.
            operation.Security = metadata.OfType<IAuthorizeData>().Any()
                ? [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] }]
                : [];
        }

        private static void AddHeaders(OpenApiResponse answer, string status, bool rateLimited)
        {
            var headers = answer.Headers ??= new Dictionary<string, IOpenApiHeader>();
            if (status == "201")
            {
                headers["Location"] = OpenApiDocs.Header("Where the created resource lives.");
            }

            if (status is "429" or "503")
            {
                headers["Retry-After"] = new OpenApiHeader
                {
                    Description = "Seconds to wait before retrying.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
                };
            }

            if (rateLimited && status != "500")
            {
                headers["RateLimit-Policy"] = OpenApiDocs.Header("The rate limit that applies, e.g. `\"reads\";q=6000;w=60` (IETF draft-ietf-httpapi-ratelimit-headers).");
                headers["RateLimit"] = OpenApiDocs.Header("What is left of it, e.g. `\"reads\";r=5999;t=42`.");
            }
        }

        /// <summary>A problem document as this answer would carry it: its status, a title, and the description as detail.</summary>
        private static JsonObject ProblemExample(string status, string? method)
        {
            var code = int.Parse(status, CultureInfo.InvariantCulture);
            var example = new JsonObject
            {
                ["type"] = Problems.TypeOf(code) ?? "about:blank",
                ["title"] = ReasonPhrases.GetReasonPhrase(code),
                ["status"] = code,
                ["detail"] = DefaultDescription(status, method).Replace("`", "", StringComparison.Ordinal),
                ["traceId"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            };
            if (code == 400)
            {
                example["errors"] = new JsonObject { ["limit"] = new JsonArray("'limit' must be a whole number from 1 to 100.") };
            }

            return example;
        }

        private static string DefaultDescription(string status, string? method) => status switch
        {
            "200" => "OK",
            "201" => "Created",
            "204" => "Done; no content.",
            "304" => "Not modified: the ETag in If-None-Match is current.",
            "400" => "The request is invalid; `errors` says what is wrong, by parameter or JSON path.",
            "401" => "A missing, unknown or revoked API key.",
            "403" => "The API key's scopes do not allow this.",
            "404" => "Not found.",
            "409" => "Conflict: the slug belongs to another therapy.",
            "410" => "The cursor names a position the feed no longer has: re-export.",
            "412" => "The If-Match ETag is stale: read again and retry.",
            "413" => "The body is over 1 MB.",
            "415" => method == "PATCH" ? "The body must be `application/merge-patch+json`." : "The body must be `application/json`.",
            "422" => "The Idempotency-Key was used with another body.",
            _ => status,
        };
    }

    /// <summary>A nullable member whose type is a component is a bare $ref in the generated schema; say that null is allowed too.</summary>
    private sealed class NullableReferenceSchemaFilter : ISchemaFilter
    {
        private static readonly NullabilityInfoContext Nullability = new();

        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (schema is not OpenApiSchema target)
            {
                return;
            }

            foreach (var (name, property) in (target.Properties ?? new Dictionary<string, IOpenApiSchema>()).ToList())
            {
                var member = context.Type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
                if (property is OpenApiSchemaReference reference && member is not null
                    && Nullability.Create(member).ReadState == NullabilityState.Nullable)
                {
                    target.Properties![name] = new OpenApiSchema { OneOf = [reference, new OpenApiSchema { Type = JsonSchemaType.Null }] };
                }
            }
        }
    }
}
