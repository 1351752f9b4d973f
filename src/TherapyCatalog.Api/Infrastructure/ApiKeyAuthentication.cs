using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>Who made a change: an API key, or the catalog's own data files.</summary>
public sealed record Actor(string Name, Guid? ApiKeyId)
{
    public static readonly Actor CatalogData = new("catalog-data", null);
}

/// <summary>
/// Writes need an API key in <c>X-Api-Key</c>. Keys are random 256-bit strings shown once when
/// minted; the database holds only their SHA-256 (a fast hash is enough for a random key of this
/// size: there is nothing to guess). Reads are anonymous.
/// </summary>
public static class ApiKeyAuthentication
{
    public const string Scheme = "ApiKey";
    public const string Header = "X-Api-Key";
    public const string WritePolicy = "catalog:write";
    public const string AdminPolicy = "catalog:admin";
    public const string ScopeClaim = "scope";
    public static readonly string[] Scopes = [WritePolicy, AdminPolicy];

    /// <summary>The fixed id of the bootstrap admin key from <c>Catalog:BootstrapApiKey</c>.</summary>
    public static readonly Guid BootstrapKeyId = new("00000000-0000-0000-0000-0000000000b0");

    public static IServiceCollection AddCatalogApiKeys(this IServiceCollection services)
    {
        services.AddAuthentication(Scheme).AddScheme<AuthenticationSchemeOptions, Handler>(Scheme, null);
        services.AddAuthorizationBuilder()
            // catalog:admin includes catalog:write.
            .AddPolicy(WritePolicy, p => p.RequireClaim(ScopeClaim, WritePolicy, AdminPolicy))
            .AddPolicy(AdminPolicy, p => p.RequireClaim(ScopeClaim, AdminPolicy));
        return services;
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static string NewKey() => "tc_" + System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>Who is writing, for the history: the key's name and id.</summary>
    public static Actor Actor(ClaimsPrincipal user) =>
        new(user.Identity?.Name ?? "unknown", Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!));

    public static Guid KeyId(ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!);

    private const string BootstrapSql = """
        INSERT INTO api_keys (id, name, key_hash, scopes)
        VALUES (@Id, 'bootstrap', @Hash, ARRAY['catalog:write', 'catalog:admin'])
        ON CONFLICT (id) DO UPDATE SET key_hash = excluded.key_hash, revoked_at = NULL
        WHERE api_keys.key_hash <> excluded.key_hash
        """;

    /// <summary>
    /// Installs <c>Catalog:BootstrapApiKey</c> as an admin key, so a fresh install can mint keys.
    /// A revoked bootstrap key stays revoked until the configured key changes.
    /// </summary>
    public static async Task InstallBootstrapKeyAsync(string? key, NpgsqlDataSource dataSource, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(key))
        {
            return;
        }

        await using var db = await dataSource.OpenConnectionAsync(ct);
        await db.ExecuteAsync(new CommandDefinition(BootstrapSql, new { Id = BootstrapKeyId, Hash = Hash(key) }, cancellationToken: ct));
    }

    private sealed class Handler(
        IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
        NpgsqlDataSource dataSource, CatalogRateLimiter limits, CatalogMetrics metrics)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        private const string LookupSql = """
            SELECT id AS Id, name AS Name, scopes AS Scopes, revoked_at IS NOT NULL AS Revoked
            FROM api_keys WHERE key_hash = @Hash
            """;

        private string _failure = "A write needs an API key in the X-Api-Key header.";
        private bool _lockedOut;

        protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(Header, out var presented) || string.IsNullOrEmpty(presented.ToString()))
            {
                return AuthenticateResult.NoResult();
            }

            if (limits.IsLockedOut(Context))
            {
                _lockedOut = true;
                return AuthenticateResult.Fail("Too many invalid API keys from this address.");
            }

            await using var db = await dataSource.OpenConnectionAsync(Context.RequestAborted);
            var key = await db.QuerySingleOrDefaultAsync<KeyRow>(new CommandDefinition(
                LookupSql, new { Hash = Hash(presented.ToString()) }, cancellationToken: Context.RequestAborted));
            if (key is null || key.Revoked)
            {
                // One answer for every bad key: an unknown key and a revoked one are not told apart.
                limits.CountFailedAuthentication(Context);
                _failure = "The API key is not valid.";
                return AuthenticateResult.Fail(_failure);
            }

            var identity = new ClaimsIdentity(
                [new Claim(ClaimTypes.NameIdentifier, key.Id.ToString()), new Claim(ClaimTypes.Name, key.Name),
                 .. key.Scopes.Select(s => new Claim(ScopeClaim, s))],
                ApiKeyAuthentication.Scheme);
            return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiKeyAuthentication.Scheme));
        }

        protected override Task HandleChallengeAsync(AuthenticationProperties properties)
        {
            if (_lockedOut)
            {
                metrics.AuthenticationLockedOut();
                var seconds = limits.SecondsUntilUnlocked(Context);
                Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return WriteProblemAsync(StatusCodes.Status429TooManyRequests, "Too many requests",
                    $"Too many invalid API keys came from this address: no key is checked for {seconds} seconds.");
            }

            Response.Headers.WWWAuthenticate = $"{ApiKeyAuthentication.Scheme} header=\"{Header}\"";
            return WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized", _failure);
        }

        protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
            WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", "The API key's scopes do not allow this request.");

        private Task WriteProblemAsync(int status, string title, string detail) => Problems.WriteAsync(Context, status, title, detail).AsTask();

        // A class, not a positional record: Dapper hands text[] over as an array to a property setter only.
        private sealed class KeyRow
        {
            public Guid Id { get; init; }
            public string Name { get; init; } = "";
            public string[] Scopes { get; init; } = [];
            public bool Revoked { get; init; }
        }
    }
}
