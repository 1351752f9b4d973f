using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;
using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Api.Infrastructure.ApiKeys;
using TherapyCatalog.Api.Sync;
using TherapyCatalog.Api.Therapies;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// The OpenAPI document (Swashbuckle) at <c>/openapi/v1.json</c> and Swagger UI at <c>/swagger</c>.
/// What the endpoint metadata cannot say is added here, in one place: parameter vocabularies and
/// limits, the problem+json answers every route can give (429, 500, 503), response headers, the
/// API-key scheme on the routes that need a key, and examples taken from real catalog records.
/// Producing the document needs no database.
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
            options.SchemaFilter<CatalogSchemaFilter>();
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

    /// <summary>The problem document schemas every error answer uses.</summary>
    private sealed class CatalogDocumentFilter : IDocumentFilter
    {
        public void Apply(OpenApiDocument document, DocumentFilterContext context)
        {
            // Relative to wherever the document is served from, so Swagger UI's try-it-out calls this server.
            document.Servers = [new OpenApiServer { Url = "/", Description = "This server" }];
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
            foreach (var unused in new[] { "ProblemDetails", "HttpValidationProblemDetails", "JsonNode", "JsonNodeOptions" })
            {
                document.Components.Schemas.Remove(unused);
            }
        }
    }

    /// <summary>Parameters, answers, headers and security of each operation.</summary>
    private sealed class CatalogOperationFilter : IOperationFilter
    {
        // Query parameters whose values come from a closed vocabulary.
        private static readonly Dictionary<string, string[]> Vocabularies = new(StringComparer.OrdinalIgnoreCase)
        {
            ["modality"] = TherapyVocabulary.Modalities,
            ["cellSource"] = TherapyVocabulary.CellSources,
            ["delivery"] = TherapyVocabulary.Deliveries,
            ["mechanism"] = TherapyVocabulary.Mechanisms,
            ["vector"] = TherapyVocabulary.Vectors,
            ["route"] = TherapyVocabulary.Routes,
            ["regulator"] = TherapyVocabulary.Regulators,
            ["status"] = TherapyFilterRequestValidator.StatusValues,
            ["sort"] = TherapyListApi.Sorts,
            ["format"] = ["ndjson", "csv"],
        };

        private static readonly Dictionary<string, string> Descriptions = new(StringComparer.OrdinalIgnoreCase)
        {
            ["condition"] = "What a person would type: a condition's name, an abbreviation (`SMA`, `DLBCL`), a lay term (`blood cancer`), a misspelling (`lymphona`) or an ICD-10 code or prefix (`C83`). A broader condition reaches its subtypes. Results carry `matchedConditions`.",
            ["q"] = "Free text over names, proper name, target and conditions.",
            ["target"] = "Gene or antigen, e.g. `CD19`, `BCMA` (case-insensitive). Repeat for OR.",
            ["manufacturer"] = "Part of the license holder's name (case-insensitive). Repeat for OR.",
            ["approvedFrom"] = "Only therapies with an approval on or after this date (YYYY-MM-DD).",
            ["approvedTo"] = "Only therapies with an approval on or before this date (YYYY-MM-DD).",
            ["cursor"] = "The `nextCursor` of the previous page, as given (opaque and tamper-evident; the same filters and sort must be sent).",
            ["after"] = "A `cursor` from the feed or an export's `X-Catalog-Cursor`; none to start from the beginning.",
            ["wait"] = "Long poll: with no new change, wait up to this many seconds (0–30) for one.",
            ["idOrSlug"] = "The therapy's uuid or slug, e.g. `kymriah`.",
        };

        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            var path = "/" + context.ApiDescription.RelativePath?.TrimEnd('/');
            foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
            {
                Describe(parameter, path);
                if (parameter.Name == "idOrSlug" && context.ApiDescription.HttpMethod != "GET")
                {
                    parameter.Description = "The therapy's id (uuid). Writes do not take a slug: a slug can pass to another therapy, an id never does.";
                    parameter.Example = CatalogExamples.Therapy("kymriah")["id"]!.DeepClone();
                }
                else if (parameter.Name == "idOrSlug")
                {
                    parameter.Example = JsonValue.Create("kymriah");
                }
            }

            var responses = operation.Responses ??= new OpenApiResponses();
            var touchesDatabase = path != "/health/live";
            var rateLimited = !path.StartsWith("/health", StringComparison.Ordinal);
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
                        ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("Problem", context.Document) },
                    };
                }

                AddHeaders(answer, status, path, rateLimited);
                if (path == "/v1/export" && status == "200" && answer.Content is { } exported)
                {
                    exported["application/x-ndjson"] = new OpenApiMediaType
                    {
                        Schema = new OpenApiSchemaReference(nameof(Therapy), context.Document),
                        Example = null,
                    };
                    answer.Description = "The catalog, streamed: NDJSON has one Therapy document per line (the schema is a line's); CSV has one row per therapy with arrays flattened as README describes.";
                }
            }

            if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any())
            {
                operation.Security =
                [
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] },
                ];
            }
        }

        private static void Describe(OpenApiParameter parameter, string path)
        {
            parameter.Name = JsonNamingPolicy.CamelCase.ConvertName(parameter.Name!);
            if (Descriptions.TryGetValue(parameter.Name, out var description))
            {
                parameter.Description ??= description;
            }

            if (parameter.Schema is not OpenApiSchema schema)
            {
                return;
            }

            var values = schema.Type?.HasFlag(JsonSchemaType.Array) == true ? schema.Items as OpenApiSchema : schema;
            if (values is not null && Vocabularies.TryGetValue(parameter.Name, out var vocabulary))
            {
                values.Enum = [.. vocabulary.Select(v => (JsonNode)JsonValue.Create(v)!)];
                parameter.Description ??= schema.Type?.HasFlag(JsonSchemaType.Array) == true
                    ? "Repeat the parameter for OR within it; different parameters combine with AND."
                    : null;
            }

            if (parameter.Name is "approvedFrom" or "approvedTo")
            {
                schema.Format = "date";
            }

            if (parameter.Name == "limit")
            {
                var (max, fallback) = path switch
                {
                    "/v1/changes" => (1000, 100),
                    "/v1/conditions" => (100, 10),
                    _ => (TherapyListApi.MaxLimit, TherapyListApi.DefaultLimit),
                };
                schema.Type = JsonSchemaType.Integer;
                schema.Format = "int32";
                schema.Minimum = "1";
                schema.Maximum = max.ToString(System.Globalization.CultureInfo.InvariantCulture);
                schema.Default = JsonValue.Create(fallback);
                parameter.Description = $"Items per page, 1–{max} (default {fallback}).";
            }

            if (parameter.Name == "wait")
            {
                schema.Type = JsonSchemaType.Integer;
                schema.Format = "int32";
                schema.Minimum = "0";
                schema.Maximum = "30";
            }
        }

        private static void AddHeaders(OpenApiResponse answer, string status, string path, bool rateLimited)
        {
            var headers = answer.Headers ??= new Dictionary<string, IOpenApiHeader>();
            void Add(string name, string description) =>
                headers[name] = new OpenApiHeader { Description = description, Schema = new OpenApiSchema { Type = JsonSchemaType.String } };

            var singleTherapy = path.StartsWith("/v1/therapies/{", StringComparison.Ordinal) && !path.EndsWith("/history", StringComparison.Ordinal);
            if (singleTherapy && status is "200" or "201" or "304")
            {
                Add("ETag", "The version's entity tag, `\"<id>-<version>\"`; send it in If-None-Match (reads) or If-Match (writes).");
            }

            if (status == "201")
            {
                Add("Location", "Where the created resource lives.");
            }

            if (status == "200" && path == "/v1/therapies")
            {
                Add("Link", "`<next page URL>; rel=\"next\"` while more items remain.");
            }

            if (status == "200" && path is "/v1/therapies" or "/v1/facets" or "/v1/conditions" or "/v1/export")
            {
                Add("X-Catalog-Cursor", "The change-feed position this answer reflects: follow `GET /v1/changes?after=` from it.");
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
                Add("RateLimit-Policy", "The rate limit that applies, e.g. `\"reads\";q=6000;w=60` (IETF draft-ietf-httpapi-ratelimit-headers).");
                Add("RateLimit", "What is left of it, e.g. `\"reads\";r=5999;t=42`.");
            }
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

    /// <summary>Examples from real catalog records (the data files), null where C# allows it, and the list item's shape.</summary>
    private sealed class CatalogSchemaFilter : ISchemaFilter
    {
        private static readonly NullabilityInfoContext Nullability = new();

        // A nullable member whose type is a component is a bare $ref in the generated schema; say that null is allowed too.
        private static void AllowNullReferences(OpenApiSchema schema, Type type)
        {
            foreach (var (name, property) in (schema.Properties ?? new Dictionary<string, IOpenApiSchema>()).ToList())
            {
                var member = type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
                if (property is OpenApiSchemaReference reference && member is not null
                    && Nullability.Create(member).ReadState == NullabilityState.Nullable)
                {
                    schema.Properties![name] = new OpenApiSchema { OneOf = [reference, new OpenApiSchema { Type = JsonSchemaType.Null }] };
                }
            }
        }

        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (schema is not OpenApiSchema target)
            {
                return;
            }

            AllowNullReferences(target, context.Type);

            if (context.Type == typeof(Therapy))
            {
                target.Example = CatalogExamples.Therapy("kymriah");
            }
            else if (context.Type == typeof(TherapyInput))
            {
                target.Example = CatalogExamples.Input("zolgensma");
            }
            else if (context.Type == typeof(TherapyPage))
            {
                // Items are therapies, each with the conditions it matched (built in SQL, so described here):
                // the Therapy schema's members plus matchedConditions.
                context.SchemaGenerator.GenerateSchema(typeof(Therapy), context.SchemaRepository);
                var therapy = (OpenApiSchema)context.SchemaRepository.Schemas[nameof(Therapy)];
                var item = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    AdditionalProperties = therapy.AdditionalProperties,
                    AdditionalPropertiesAllowed = therapy.AdditionalPropertiesAllowed,
                    Required = new HashSet<string>(therapy.Required ?? new HashSet<string>()),
                    Properties = new Dictionary<string, IOpenApiSchema>(therapy.Properties ?? new Dictionary<string, IOpenApiSchema>())
                    {
                        ["matchedConditions"] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Array,
                            Description = "With `condition` or `q`: which conditions matched this therapy, how (exact, synonym, code-prefix, word, descendant, fuzzy ...), by which term, and via which broader condition.",
                            Items = context.SchemaGenerator.GenerateSchema(typeof(MatchedCondition), context.SchemaRepository),
                        },
                    },
                };
                target.Properties!["items"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = item };
            }
            else if (context.Type == typeof(ChangeItem))
            {
                target.Example = new JsonObject
                {
                    ["cursor"] = "YzE6NzkzOjUzSeKjRNNEFL0R3btrisPi5w",
                    ["kind"] = "upsert",
                    ["therapyId"] = CatalogExamples.Therapy("zolgensma")["id"]!.DeepClone(),
                    ["version"] = 1,
                    ["changedAt"] = "2026-11-25T16:13:23.074237Z",
                    ["therapy"] = CatalogExamples.Therapy("zolgensma"),
                };
            }
        }
    }
}
