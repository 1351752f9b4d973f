using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using FluentValidation;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Infrastructure.ApiKeys;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// The write side of the therapy resource. Every write runs in one transaction that locks the
/// therapy's row (so of two writers presenting the same If-Match exactly one wins), and stores the
/// new version, its history entry and its change-log row through <see cref="TherapyWrites"/>.
/// </summary>
public static class TherapyWriteApi
{
    private const string LookupIdempotentAnswerSql = """
        DELETE FROM idempotency_keys WHERE api_key_id = @ApiKeyId AND key = @Key AND created_at < now() - interval '24 hours';
        SELECT request_sha256 AS RequestSha256, status_code AS StatusCode, location AS Location, etag AS ETag, body AS Body
        FROM idempotency_keys WHERE api_key_id = @ApiKeyId AND key = @Key;
        """;

    private const string StoreIdempotentAnswerSql = """
        INSERT INTO idempotency_keys (api_key_id, key, request_sha256, status_code, location, etag, body)
        VALUES (@ApiKeyId, @Key, @RequestSha256, @StatusCode, @Location, @ETag, @Body)
        """;

    private const string HistorySql = """
        SELECT v.version AS Version, v.kind AS Kind, v.changed_at AS ChangedAt, v.changed_by AS ChangedBy,
               v.changed_members AS ChangedMembers, v.document::text AS Document
        FROM therapy_versions v
        WHERE v.therapy_id = @Id
        ORDER BY v.version
        """;

    private const string FindIdSql = "SELECT id FROM therapies WHERE slug = @Slug AND deleted_at IS NULL";

    public static async Task<IResult> CreateTherapy(
        HttpRequest request, NpgsqlDataSource dataSource, IValidator<TherapyInput> validator, TimeProvider clock,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync<TherapyInput>(request, JsonBody.Json, ct);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        var idempotencyKey = request.Headers["Idempotency-Key"].ToString();
        if (idempotencyKey.Length > 200)
        {
            return Validation.Problem("Idempotency-Key", "An Idempotency-Key is at most 200 characters.");
        }

        var requestHash = SHA256.HashData(body.Raw);
        var apiKeyId = ApiKeyAuthentication.KeyId(user);
        await using var db = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await db.BeginTransactionAsync(ct);

        if (idempotencyKey.Length > 0)
        {
            // Serialise requests sharing a key: a retry racing the first request waits for its answer.
            await db.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(hashtextextended(@Lock, 0))",
                new { Lock = $"{apiKeyId}/{idempotencyKey}" }, tx, cancellationToken: ct));
            var earlier = await db.QuerySingleOrDefaultAsync<StoredAnswer>(new CommandDefinition(
                LookupIdempotentAnswerSql, new { ApiKeyId = apiKeyId, Key = idempotencyKey }, tx, cancellationToken: ct));
            if (earlier is not null)
            {
                await tx.CommitAsync(ct);
                return earlier.RequestSha256.AsSpan().SequenceEqual(requestHash)
                    ? Replay(earlier)
                    : TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency-Key reused",
                        detail: "This Idempotency-Key was used with a different body in the last 24 hours. Use a new key for a new request.");
            }
        }

        var validation = await validator.ValidateAsync(body.Value!, ct);
        if (!validation.IsValid)
        {
            return Validation.Problem(validation.Errors);
        }

        var id = Guid.CreateVersion7();
        var saved = await SaveAsync(db, tx, id, body.Value!, current: null, "create", ApiKeyAuthentication.Actor(user), clock, ct);
        if (saved.Problem is not null)
        {
            return saved.Problem;
        }

        var answer = new StoredAnswer(requestHash, StatusCodes.Status201Created, $"/v1/therapies/{id}",
            TherapiesApi.ETag(saved.Therapy!), JsonSerializer.Serialize(saved.Therapy, CatalogJson.Options));
        if (idempotencyKey.Length > 0)
        {
            await db.ExecuteAsync(new CommandDefinition(StoreIdempotentAnswerSql, new
            {
                ApiKeyId = apiKeyId, Key = idempotencyKey, answer.RequestSha256, answer.StatusCode, answer.Location, answer.ETag, answer.Body,
            }, tx, cancellationToken: ct));
        }

        await tx.CommitAsync(ct);
        request.HttpContext.RequestServices.GetRequiredService<TherapyETags>().Invalidate();
        return Replay(answer);
    }

    public static async Task<IResult> ReplaceTherapy(
        string idOrSlug, HttpRequest request, NpgsqlDataSource dataSource, IValidator<TherapyInput> validator, TimeProvider clock,
        ClaimsPrincipal user, CancellationToken ct)
    {
        if (!Guid.TryParse(idOrSlug, out var id))
        {
            return TherapiesApi.WritesNeedTheId(idOrSlug);
        }

        var body = await JsonBody.ReadAsync<TherapyInput>(request, JsonBody.Json, ct);
        return body.Problem ?? await UpdateAsync(id, request, _ => (body.Value, null), dataSource, validator, clock, user, ct);
    }

    /// <summary>JSON Merge Patch (RFC 7396) over the therapy's writable members.</summary>
    public static async Task<IResult> PatchTherapy(
        string idOrSlug, HttpRequest request, NpgsqlDataSource dataSource, IValidator<TherapyInput> validator, TimeProvider clock,
        ClaimsPrincipal user, CancellationToken ct)
    {
        if (!Guid.TryParse(idOrSlug, out var id))
        {
            return TherapiesApi.WritesNeedTheId(idOrSlug);
        }

        var body = await JsonBody.ReadAsync<JsonObject>(request, JsonBody.MergePatch, ct);
        return body.Problem ?? await UpdateAsync(id, request, current => MergePatch(current, body.Value!), dataSource, validator, clock, user, ct);
    }

    public static async Task<IResult> DeleteTherapy(
        string idOrSlug, HttpRequest request, NpgsqlDataSource dataSource, TimeProvider clock, ClaimsPrincipal user, CancellationToken ct)
    {
        if (!Guid.TryParse(idOrSlug, out var id))
        {
            return TherapiesApi.WritesNeedTheId(idOrSlug);
        }

        await using var db = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await db.BeginTransactionAsync(ct);
        var (current, refusal) = await LockForWriteAsync(db, tx, id, request, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var tombstone = current! with { Version = current.Version + 1, UpdatedAt = TherapyWrites.Now(clock) };
        await TherapyWrites.WriteAsync(db, tx, tombstone, "delete", [], ApiKeyAuthentication.Actor(user), ct);
        await tx.CommitAsync(ct);
        request.HttpContext.RequestServices.GetRequiredService<TherapyETags>().Invalidate();
        return TypedResults.NoContent();
    }

    /// <summary>Every version of a therapy, oldest first: its representation, what changed, when and by which key.</summary>
    public static async Task<IResult> GetHistory(string idOrSlug, [FromKeyedServices(CatalogDatabase.Reads)] NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var db = await dataSource.OpenConnectionAsync(ct);
        if (!Guid.TryParse(idOrSlug, out var id))
        {
            if (!TherapiesApi.IsSlug(idOrSlug))
            {
                return TherapiesApi.InvalidIdOrSlug();
            }

            id = await db.QuerySingleOrDefaultAsync<Guid>(new CommandDefinition(FindIdSql, new { Slug = idOrSlug }, cancellationToken: ct));
        }

        var rows = (await db.QueryAsync<HistoryRow>(new CommandDefinition(HistorySql, new { Id = id }, cancellationToken: ct))).ToList();
        if (rows.Count == 0)
        {
            return NotFound(idOrSlug);
        }

        return TypedResults.Ok(new TherapyHistory([.. rows.Select(r => new TherapyVersion(
            r.Version, r.Kind, new DateTimeOffset(r.ChangedAt, TimeSpan.Zero), r.ChangedBy, r.ChangedMembers,
            JsonSerializer.Deserialize<Therapy>(r.Document, CatalogJson.Options)!))]));
    }

    private static async Task<IResult> UpdateAsync(
        Guid id, HttpRequest request, Func<Therapy, (TherapyInput? Input, IResult? Problem)> makeInput, NpgsqlDataSource dataSource,
        IValidator<TherapyInput> validator, TimeProvider clock, ClaimsPrincipal user, CancellationToken ct)
    {
        await using var db = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await db.BeginTransactionAsync(ct);
        var (current, refusal) = await LockForWriteAsync(db, tx, id, request, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var (input, problem) = makeInput(current!);
        if (problem is not null)
        {
            return problem;
        }

        var validation = await validator.ValidateAsync(input!, ct);
        if (!validation.IsValid)
        {
            return Validation.Problem(validation.Errors);
        }

        var saved = await SaveAsync(db, tx, id, input!, current, "update", ApiKeyAuthentication.Actor(user), clock, ct);
        if (saved.Problem is not null)
        {
            return saved.Problem;
        }

        await tx.CommitAsync(ct);
        request.HttpContext.RequestServices.GetRequiredService<TherapyETags>().Invalidate();
        request.HttpContext.Response.Headers.ETag = TherapiesApi.ETag(saved.Therapy!);
        return TypedResults.Ok(saved.Therapy);
    }

    /// <summary>Locks the therapy for the rest of the transaction; refuses (404, 412) when it is gone or the If-Match is stale.</summary>
    private static async Task<(Therapy? Current, IResult? Refusal)> LockForWriteAsync(
        NpgsqlConnection db, NpgsqlTransaction tx, Guid id, HttpRequest request, CancellationToken ct)
    {
        var current = await TherapyWrites.LoadForUpdateAsync(db, tx, id, ct);
        if (current is not { Deleted: false } found)
        {
            return (null, NotFound(id.ToString()));
        }

        return EntityTags.IfMatchAllows(request, TherapiesApi.ETag(found.Therapy))
            ? (found.Therapy, null)
            : (null, PreconditionFailed(found.Therapy));
    }

    /// <summary>Builds and writes the next version; an unchanged therapy keeps its version.</summary>
    private static async Task<(Therapy? Therapy, IResult? Problem)> SaveAsync(
        NpgsqlConnection db, NpgsqlTransaction tx, Guid id, TherapyInput input, Therapy? current, string kind, Actor actor,
        TimeProvider clock, CancellationToken ct)
    {
        Therapy next;
        try
        {
            next = await TherapyWrites.BuildAsync(db, tx, id, input, current, TherapyWrites.Now(clock), ct);
        }
        catch (UnknownConditionsException e)
        {
            return (null, Validation.Problem(input.Indications
                .Select((indication, i) => (indication, i))
                .Where(x => e.ConditionIds.Contains(x.indication.ConditionId))
                .Select(x => new FluentValidation.Results.ValidationFailure(
                    $"indications[{x.i}].conditionId", $"'{x.indication.ConditionId}' is not a known condition id (see GET /v1/conditions)."))));
        }

        var changed = TherapyWrites.ChangedMembers(current, next);
        if (current is not null && changed.Length == 0)
        {
            return (current, null);
        }

        try
        {
            await db.ExecuteAsync(new CommandDefinition("SAVEPOINT therapy_write", transaction: tx, cancellationToken: ct));
            await TherapyWrites.WriteAsync(db, tx, next, kind, changed, actor, ct);
        }
        catch (PostgresException e) when (e is { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "therapies_slug_key" })
        {
            await db.ExecuteAsync(new CommandDefinition("ROLLBACK TO SAVEPOINT therapy_write", transaction: tx, cancellationToken: ct));
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Slug taken",
                detail: $"Another therapy already has the slug '{input.Slug}'."));
        }

        return (next, null);
    }

    private static (TherapyInput? Input, IResult? Problem) MergePatch(Therapy current, JsonObject patch)
    {
        var target = JsonSerializer.SerializeToNode(ToInput(current), CatalogJson.Options)!.AsObject();
        foreach (var (name, value) in patch)
        {
            if (!target.ContainsKey(name))
            {
                return (null, Validation.Problem(name, "This member is not part of the resource, or cannot be changed."));
            }

            Merge(target, name, value);
        }

        try
        {
            return (target.Deserialize<TherapyInput>(CatalogJson.Options), null);
        }
        catch (JsonException e)
        {
            return (null, Validation.Problem(JsonBody.ClientPath(e.Path ?? "$"), "The value has the wrong JSON type or format for this member."));
        }
    }

    // RFC 7396: null removes, an object merges member by member, anything else replaces.
    private static void Merge(JsonObject target, string name, JsonNode? value)
    {
        if (value is JsonObject patch && target[name] is JsonObject existing)
        {
            foreach (var (member, memberValue) in patch.ToList())
            {
                Merge(existing, member, memberValue?.DeepClone());
            }
        }
        else if (value is null)
        {
            target[name] = null; // the contract's members are all present; a removed one is null
        }
        else
        {
            target[name] = value.DeepClone();
        }
    }

    private static TherapyInput ToInput(Therapy t) => new(
        t.Slug, t.ProprietaryName, t.ProperName, t.Manufacturer, t.Modality, t.CellSource, t.Delivery, t.Mechanism, t.Vector,
        t.VectorDetail, t.Target, t.Route, t.Administration,
        [.. t.Indications.Select(i => new IndicationInput(i.ConditionId, i.Population, i.Regulator, i.ApprovedOn))],
        t.Approvals, t.ListPrice, t.Ndcs, t.Status, t.Sources);

    private static StoredAnswerResult Replay(StoredAnswer answer) => new StoredAnswerResult(answer);

    private static ProblemHttpResult NotFound(string idOrSlug) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound, title: "Therapy not found", detail: $"No therapy has the id or slug '{idOrSlug}'.");

    private static ProblemHttpResult PreconditionFailed(Therapy current) => TypedResults.Problem(
        statusCode: StatusCodes.Status412PreconditionFailed, title: "Precondition failed",
        detail: $"The therapy has changed: its current ETag is {TherapiesApi.ETag(current)}. Read it again and retry.");

    private sealed record StoredAnswer(byte[] RequestSha256, int StatusCode, string? Location, string? ETag, string Body);

    /// <summary>Writes a stored answer byte for byte, for the first request and its retries alike.</summary>
    private sealed class StoredAnswerResult(StoredAnswer answer) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = answer.StatusCode;
            if (answer.Location is not null)
            {
                http.Response.Headers.Location = answer.Location;
            }

            if (answer.ETag is not null)
            {
                http.Response.Headers.ETag = answer.ETag;
            }

            http.Response.ContentType = "application/json; charset=utf-8";
            return http.Response.WriteAsync(answer.Body, http.RequestAborted);
        }
    }

    // A class, not a positional record: Dapper hands text[] over as an array to a property setter only.
    private sealed class HistoryRow
    {
        public int Version { get; init; }
        public string Kind { get; init; } = "";
        public DateTime ChangedAt { get; init; }
        public string ChangedBy { get; init; } = "";
        public string[] ChangedMembers { get; init; } = [];
        public string Document { get; init; } = "";
    }
}

/// <summary>Every version of a therapy, oldest first.</summary>
public sealed record TherapyHistory(IReadOnlyList<TherapyVersion> Items);

/// <summary>One version: what it was, how it came about (create, update, delete), when, by which key, and which members changed.</summary>
public sealed record TherapyVersion(int Version, string Kind, DateTimeOffset ChangedAt, string ChangedBy, IReadOnlyList<string> ChangedMembers, Therapy Therapy);
