using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using FluentValidation;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// The write side of the therapy resource. Every write runs in one transaction that locks the
/// therapy's row (so of two writers presenting the same If-Match exactly one wins), and stores the
/// new version, its history entry and its change-log row through <see cref="TherapyWrites"/>.
/// </summary>
public static class TherapyWriteApi
{
    public static async Task<IResult> CreateTherapy(
        HttpRequest request, NpgsqlDataSource dataSource, IValidator<TherapyInput> validator, TherapyETags etags, TimeProvider clock,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync<JsonObject>(request, JsonBody.Json, ct);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        var (input, sent, unreadable) = TherapyRepresentation.Read(body.Value!);
        if (unreadable is not null)
        {
            return unreadable;
        }

        var apiKeyId = ApiKeyAuthentication.KeyId(user);
        var (idempotent, badKey) = IdempotentRequest.From(request, apiKeyId, body.Raw);
        if (badKey is not null)
        {
            return badKey;
        }

        await using var db = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await db.BeginTransactionAsync(ct);
        if (idempotent is not null && await idempotent.EarlierAnswerAsync(db, tx, ct) is { } earlier)
        {
            await tx.CommitAsync(ct);
            return earlier;
        }

        var validation = await validator.ValidateAsync(input!, ct);
        if (!validation.IsValid)
        {
            return Validation.Problem(validation.Errors);
        }

        var id = Guid.CreateVersion7();
        var saved = await SaveAsync(db, tx, id, input!, sent, current: null, "create", ApiKeyAuthentication.Actor(user), clock, ct);
        if (saved.Problem is not null)
        {
            return saved.Problem;
        }

        var (location, etag, json) = ($"/v1/therapies/{id}", TherapiesApi.ETag(saved.Therapy!), JsonSerializer.Serialize(saved.Therapy, CatalogJson.Options));
        var answer = idempotent is null
            ? IdempotentRequest.Answer(StatusCodes.Status201Created, location, etag, json)
            : await idempotent.StoreAsync(db, tx, StatusCodes.Status201Created, location, etag, json, ct);
        await tx.CommitAsync(ct);
        etags.Invalidate();
        return answer;
    }

    public static async Task<IResult> ReplaceTherapy(
        string idOrSlug, HttpRequest request, NpgsqlDataSource dataSource, IValidator<TherapyInput> validator, TherapyETags etags,
        TimeProvider clock, ClaimsPrincipal user, CancellationToken ct)
    {
        if (!Guid.TryParse(idOrSlug, out var id))
        {
            return TherapiesApi.WritesNeedTheId(idOrSlug);
        }

        var body = await JsonBody.ReadAsync<JsonObject>(request, JsonBody.Json, ct);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        var (input, sent, unreadable) = TherapyRepresentation.Read(body.Value!);
        return unreadable ?? await UpdateAsync(id, request, _ => (input, sent, null), dataSource, validator, etags, clock, user, ct);
    }

    /// <summary>JSON Merge Patch (RFC 7396) over the therapy's writable members.</summary>
    public static async Task<IResult> PatchTherapy(
        string idOrSlug, HttpRequest request, NpgsqlDataSource dataSource, IValidator<TherapyInput> validator, TherapyETags etags,
        TimeProvider clock, ClaimsPrincipal user, CancellationToken ct)
    {
        if (!Guid.TryParse(idOrSlug, out var id))
        {
            return TherapiesApi.WritesNeedTheId(idOrSlug);
        }

        var body = await JsonBody.ReadAsync<JsonObject>(request, JsonBody.MergePatch, ct);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        var patch = TherapyRepresentation.Split(body.Value!);
        return patch.Unknown.Count > 0
            ? TherapyRepresentation.UnknownMembers(patch.Unknown)
            : await UpdateAsync(id, request, current => MergePatch(current, patch), dataSource, validator, etags, clock, user, ct);
    }

    public static async Task<IResult> DeleteTherapy(
        string idOrSlug, HttpRequest request, NpgsqlDataSource dataSource, TherapyETags etags, TimeProvider clock, ClaimsPrincipal user,
        CancellationToken ct)
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
        etags.Invalidate();
        return TypedResults.NoContent();
    }

    private static async Task<IResult> UpdateAsync(
        Guid id, HttpRequest request,
        Func<Therapy, (TherapyInput? Input, IReadOnlyDictionary<string, JsonNode?> Sent, IResult? Problem)> makeInput, NpgsqlDataSource dataSource,
        IValidator<TherapyInput> validator, TherapyETags etags, TimeProvider clock, ClaimsPrincipal user, CancellationToken ct)
    {
        await using var db = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await db.BeginTransactionAsync(ct);
        var (current, refusal) = await LockForWriteAsync(db, tx, id, request, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var (input, sent, problem) = makeInput(current!);
        if (problem is not null)
        {
            return problem;
        }

        var validation = await validator.ValidateAsync(input!, ct);
        if (!validation.IsValid)
        {
            return Validation.Problem(validation.Errors);
        }

        var saved = await SaveAsync(db, tx, id, input!, sent, current, "update", ApiKeyAuthentication.Actor(user), clock, ct);
        if (saved.Problem is not null)
        {
            return saved.Problem;
        }

        await tx.CommitAsync(ct);
        etags.Invalidate();
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
            return (null, TherapiesApi.NotFound(id.ToString()));
        }

        return EntityTags.IfMatchAllows(request, TherapiesApi.ETag(found.Therapy))
            ? (found.Therapy, null)
            : (null, PreconditionFailed(found.Therapy));
    }

    /// <summary>
    /// Builds and writes the next version; an unchanged therapy keeps its version. Server-managed
    /// members the body sent back (<paramref name="sent"/>) must agree with the stored or referenced values.
    /// </summary>
    private static async Task<(Therapy? Therapy, IResult? Problem)> SaveAsync(
        NpgsqlConnection db, NpgsqlTransaction tx, Guid id, TherapyInput input, IReadOnlyDictionary<string, JsonNode?> sent,
        Therapy? current, string kind, Actor actor, TimeProvider clock, CancellationToken ct)
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

        var disagreements = TherapyRepresentation.Disagreements(sent, current, next).ToList();
        if (disagreements.Count > 0)
        {
            return (null, Validation.Problem(disagreements));
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

    /// <summary>
    /// RFC 7396 over the therapy's writable members. A patch of only <c>ndcs</c> (or only <c>packages</c>)
    /// lets the other follow from it, as a body that leaves one out does.
    /// </summary>
    private static (TherapyInput? Input, IReadOnlyDictionary<string, JsonNode?> Sent, IResult? Problem) MergePatch(Therapy current, WriteBody patch)
    {
        var target = JsonSerializer.SerializeToNode(current.ToInput(), CatalogJson.Options)!.AsObject();
        foreach (var (name, value) in patch.Writable)
        {
            JsonMergePatch.Merge(target, name, value);
        }

        foreach (var (given, derived) in new[] { ("ndcs", "packages"), ("packages", "ndcs") })
        {
            if (patch.Writable.ContainsKey(given) && !patch.Writable.ContainsKey(derived))
            {
                target[derived] = null;
            }
        }

        try
        {
            return (target.Deserialize<TherapyInput>(CatalogJson.Options), patch.ServerManaged, null);
        }
        catch (JsonException e)
        {
            return (null, patch.ServerManaged,
                Validation.Problem(JsonBody.ClientPath(e.Path ?? "$"), "The value has the wrong JSON type or format for this member."));
        }
    }

    private static ProblemHttpResult PreconditionFailed(Therapy current) => TypedResults.Problem(
        statusCode: StatusCodes.Status412PreconditionFailed, title: "Precondition failed",
        detail: $"The therapy has changed: its current ETag is {TherapiesApi.ETag(current)}. Read it again and retry.");
}

