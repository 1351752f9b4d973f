using System.Security.Cryptography;
using Dapper;
using Npgsql;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// <c>Idempotency-Key</c> on a create: the first answer is stored (per API key, for 24 hours) in
/// the transaction that made it, and a retry with the same key and body gets that answer again,
/// byte for byte; the same key with another body is a 422. Requests sharing a key are serialised
/// by an advisory lock, so a retry racing the first request waits for its answer.
/// </summary>
public sealed class IdempotentRequest
{
    public const string Header = "Idempotency-Key";
    public const int MaxKeyLength = 200;

    private const string LockSql = "SELECT pg_advisory_xact_lock(hashtextextended(@Lock, 0))";

    private const string LookupSql = """
        DELETE FROM idempotency_keys WHERE api_key_id = @ApiKeyId AND key = @Key AND created_at < now() - interval '24 hours';
        SELECT request_sha256 AS RequestSha256, status_code AS StatusCode, location AS Location, etag AS ETag, body AS Body
        FROM idempotency_keys WHERE api_key_id = @ApiKeyId AND key = @Key;
        """;

    private const string StoreSql = """
        INSERT INTO idempotency_keys (api_key_id, key, request_sha256, status_code, location, etag, body)
        VALUES (@ApiKeyId, @Key, @RequestSha256, @StatusCode, @Location, @ETag, @Body)
        """;

    private readonly Guid _apiKeyId;
    private readonly string _key;
    private readonly byte[] _requestSha256;

    private IdempotentRequest(Guid apiKeyId, string key, byte[] requestSha256) =>
        (_apiKeyId, _key, _requestSha256) = (apiKeyId, key, requestSha256);

    /// <summary>The request's key (null without one), or a 400 when it is too long.</summary>
    public static (IdempotentRequest? Request, IResult? Problem) From(HttpRequest request, Guid apiKeyId, ReadOnlySpan<byte> body)
    {
        var key = request.Headers[Header].ToString();
        if (key.Length > MaxKeyLength)
        {
            return (null, Validation.Problem(Header, $"An {Header} is at most {MaxKeyLength} characters."));
        }

        return (key.Length == 0 ? null : new IdempotentRequest(apiKeyId, key, SHA256.HashData(body)), null);
    }

    /// <summary>Waits for any request with the same key, then answers what it answered (or a 422); null when this is the first.</summary>
    public async Task<IResult?> EarlierAnswerAsync(NpgsqlConnection db, NpgsqlTransaction tx, CancellationToken ct)
    {
        await db.ExecuteAsync(new CommandDefinition(LockSql, new { Lock = $"{_apiKeyId}/{_key}" }, tx, cancellationToken: ct));
        var earlier = await db.QuerySingleOrDefaultAsync<StoredAnswer>(new CommandDefinition(
            LookupSql, new { ApiKeyId = _apiKeyId, Key = _key }, tx, cancellationToken: ct));
        if (earlier is null)
        {
            return null;
        }

        return earlier.RequestSha256.AsSpan().SequenceEqual(_requestSha256)
            ? new StoredAnswerResult(earlier)
            : TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: $"{Header} reused",
                detail: $"This {Header} was used with a different body in the last 24 hours. Use a new key for a new request.");
    }

    /// <summary>Stores the answer in <paramref name="tx"/> and returns it as the result to send.</summary>
    public async Task<IResult> StoreAsync(
        NpgsqlConnection db, NpgsqlTransaction tx, int statusCode, string? location, string? etag, string body, CancellationToken ct)
    {
        var answer = new StoredAnswer(_requestSha256, statusCode, location, etag, body);
        await db.ExecuteAsync(new CommandDefinition(StoreSql, new
        {
            ApiKeyId = _apiKeyId, Key = _key, answer.RequestSha256, answer.StatusCode, answer.Location, answer.ETag, answer.Body,
        }, tx, cancellationToken: ct));
        return new StoredAnswerResult(answer);
    }

    /// <summary>The answer a request without a key gets: the same bytes a stored one would replay.</summary>
    public static IResult Answer(int statusCode, string? location, string? etag, string body) =>
        new StoredAnswerResult(new StoredAnswer([], statusCode, location, etag, body));

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
}
