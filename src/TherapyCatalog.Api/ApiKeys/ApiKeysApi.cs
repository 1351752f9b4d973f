using TherapyCatalog.Api.Infrastructure;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace TherapyCatalog.Api.ApiKeys;

/// <summary>Minting, listing and revoking API keys: for holders of a catalog:admin key.</summary>
public static class ApiKeysApi
{
    public static RouteGroupBuilder MapApiKeys(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/api-keys").WithTags("API keys")
            .RequireAuthorization(ApiKeyAuthentication.AdminPolicy)
            .RequireCors(Cors.WritePolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            // A minted key is shown once: no cache (a browser's, a proxy's) may keep an answer of this group.
            .AddEndpointFilter(async (context, next) =>
            {
                context.HttpContext.Response.Headers.CacheControl = "no-store";
                return await next(context);
            });

        group.MapPost("/", MintKey)
            .Accepts<MintRequest>(JsonBody.Json)
            .WithName("MintApiKey")
            .WithSummary("Mint an API key")
            .WithDescription("Answers the new key once, in `key`; only its hash is stored. Scopes: `catalog:write` (create, change, delete therapies), `catalog:admin` (also manage keys).");
        group.MapGet("/", ListKeys)
            .WithName("ListApiKeys")
            .WithSummary("List API keys (without the keys themselves)")
            .WithDescription("Every key ever minted: its id, name, scopes, when it was created and, if so, revoked. The keys themselves are never stored, so never listed.");
        group.MapDelete("/{id:guid}", RevokeKey)
            .WithName("RevokeApiKey")
            .WithSummary("Revoke an API key")
            .WithDescription("From then on the key answers 401. Revoking is permanent.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    public sealed record MintRequest(string Name, IReadOnlyList<string> Scopes);

    public sealed record ApiKeyInfo(Guid Id, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

    public sealed record MintedApiKey(Guid Id, string Name, IReadOnlyList<string> Scopes, string Key, DateTimeOffset CreatedAt);

    private const string InsertSql = """
        INSERT INTO api_keys (id, name, key_hash, scopes) VALUES (@Id, @Name, @Hash, @Scopes)
        RETURNING created_at
        """;

    private const string ListSql = """
        SELECT id AS Id, name AS Name, scopes AS Scopes, created_at AS CreatedAt, revoked_at AS RevokedAt
        FROM api_keys ORDER BY created_at, id
        """;

    private const string RevokeSql = "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = @Id";

    public static async Task<Results<Created<MintedApiKey>, ValidationProblem, ProblemHttpResult>> MintKey(
        HttpRequest http, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        // The body is read like every write body (JsonBody: 415, 413, unknown members and NUL
        // refused), not by the framework's binder, which answered 500 to a Content-Type whose
        // charset it cannot decode (charset="utf-8", quoted).
        var body = await JsonBody.ReadAsync<MintRequest>(http, JsonBody.Json, ct);
        switch (body.Problem)
        {
            case ValidationProblem invalid:
                return invalid;
            case ProblemHttpResult refused:
                return refused;
        }

        var request = body.Value!;
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
        {
            errors["name"] = ["'name' must be 1 to 100 characters: who or what holds the key."];
        }

        if (request.Scopes is not { Count: > 0 } || request.Scopes.Any(s => s is null || !ApiKeyAuthentication.Scopes.Contains(s)))
        {
            errors["scopes"] = [$"'scopes' must list one or more of: {string.Join(", ", ApiKeyAuthentication.Scopes)}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The request body is invalid");
        }

        var id = Guid.CreateVersion7();
        var key = ApiKeyAuthentication.NewKey();
        var scopes = request.Scopes.Distinct().ToArray();
        await using var db = await dataSource.OpenConnectionAsync(ct);
        var createdAt = await db.ExecuteScalarAsync<DateTime>(new CommandDefinition(
            InsertSql, new { Id = id, request.Name, Hash = ApiKeyAuthentication.Hash(key), Scopes = scopes }, cancellationToken: ct));
        return TypedResults.Created($"/v1/api-keys/{id}", new MintedApiKey(id, request.Name, scopes, key, new DateTimeOffset(createdAt, TimeSpan.Zero)));
    }

    public static async Task<Ok<IReadOnlyList<ApiKeyInfo>>> ListKeys(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var db = await dataSource.OpenConnectionAsync(ct);
        var rows = await db.QueryAsync<KeyRow>(
            new CommandDefinition(ListSql, cancellationToken: ct));
        return TypedResults.Ok<IReadOnlyList<ApiKeyInfo>>([.. rows.Select(r => new ApiKeyInfo(
            r.Id, r.Name, r.Scopes, new DateTimeOffset(r.CreatedAt, TimeSpan.Zero),
            r.RevokedAt is { } revoked ? new DateTimeOffset(revoked, TimeSpan.Zero) : null))]);
    }

    private sealed class KeyRow
    {
        public Guid Id { get; init; }
        public string Name { get; init; } = "";
        public string[] Scopes { get; init; } = [];
        public DateTime CreatedAt { get; init; }
        public DateTime? RevokedAt { get; init; }
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(Guid id, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var db = await dataSource.OpenConnectionAsync(ct);
        var revoked = await db.ExecuteAsync(new CommandDefinition(RevokeSql, new { Id = id }, cancellationToken: ct));
        return revoked == 1
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "API key not found", detail: $"No API key has the id '{id}'.");
    }
}
