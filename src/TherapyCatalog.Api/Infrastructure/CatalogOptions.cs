using System.ComponentModel.DataAnnotations;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Every <c>Catalog:*</c> setting, bound once and validated at start-up: a bad value stops the
/// service with a message naming the setting, instead of surfacing later in a request.
/// </summary>
public sealed class CatalogOptions
{
    public const string Section = "Catalog";

    /// <summary>
    /// Signs cursors (HMAC). Every instance of a deployment must share it, and it must outlive restarts.
    /// Required in Production (at least 32 characters); elsewhere a public development key stands in.
    /// </summary>
    public string? CursorKey { get; set; }

    /// <summary>An admin API key installed at start-up, so a fresh install can mint keys; at least 16 characters.</summary>
    public string? BootstrapApiKey { get; set; }

    /// <summary>Apply migrations and catalog data at start-up (always with <c>--migrate-only</c>).</summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>How long start-up waits for the database to answer before migrating.</summary>
    [Range(0, 3600, ErrorMessage = "Catalog:MigrationPatienceSeconds must be between 0 and 3600.")]
    public int MigrationPatienceSeconds { get; set; } = 30;

    /// <summary>
    /// The address clients reach the service at (<c>https://catalog.example.org</c>): absolute links
    /// (<c>Link: rel="next"</c>, the OpenAPI document's server) are built from it. Without it links
    /// are relative, never built from the request's Host header.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>Addresses of reverse proxies whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed; no others.</summary>
    public string[] KnownProxies { get; set; } = [];

    public RateLimitOptions RateLimits { get; set; } = new();

    public ResponseCacheOptions ResponseCache { get; set; } = new();

    public CorsOptions Cors { get; set; } = new();

    public DatabaseOptions Database { get; set; } = new();

    public MetricsOptions Metrics { get; set; } = new();

    public sealed class RateLimitOptions
    {
        public int ReadsPerMinute { get; set; } = 6000;

        public int WritesPerMinute { get; set; } = 600;

        /// <summary>Unknown or revoked keys a client address may present per minute before its keys are not looked up (429).</summary>
        public int FailedAuthenticationsPerMinute { get; set; } = 30;
    }

    public sealed class ResponseCacheOptions
    {
        public bool Enabled { get; set; } = true;
    }

    public sealed class DatabaseOptions
    {
        /// <summary>
        /// How long a request waits for a database connection (a free pooled one, or a new one opening)
        /// before it is answered 503 "busy"; Npgsql's <c>Timeout</c>, unless the connection string sets one.
        /// </summary>
        public int PoolWaitSeconds { get; set; } = CatalogDatabase.DefaultPoolWaitSeconds;

        /// <summary>How many read requests use the database at once (<see cref="DatabaseGate"/>); unset: the read pool's Maximum Pool Size.</summary>
        public int? Concurrency { get; set; }

        /// <summary>How many more read requests may wait for their turn before the next is answered 503 "busy".</summary>
        public int QueueLength { get; set; } = 256;
    }

    public sealed class MetricsOptions
    {
        /// <summary>Serve <c>/metrics</c> (Prometheus text, from OpenTelemetry); off by default.</summary>
        public bool Enabled { get; set; }
    }

    public sealed class CorsOptions
    {
        /// <summary>Origins whose pages may write from a browser (<c>https://formulary.example.org</c>); reads are open to every origin.</summary>
        public string[] WriteOrigins { get; set; } = [];
    }
}

public static class CatalogOptionsSetup
{
    /// <summary>Binds <see cref="CatalogOptions"/> and validates them when the host starts (and on first use).</summary>
    public static IServiceCollection AddCatalogOptions(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddOptions<CatalogOptions>()
            .Bind(configuration.GetSection(CatalogOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => !environment.IsProduction() || (o.CursorKey is { Length: >= OpaqueCursor.MinKeyLength } key && key != OpaqueCursor.DevelopmentKey),
                $"Catalog:CursorKey must be set in Production, to a secret of at least {OpaqueCursor.MinKeyLength} characters shared by every instance " +
                "(e.g. openssl rand -base64 32): without it anyone could forge cursors with the key in the source code.")
            .Validate(o => string.IsNullOrEmpty(o.CursorKey) || o.CursorKey.Length >= OpaqueCursor.MinKeyLength,
                $"Catalog:CursorKey must be at least {OpaqueCursor.MinKeyLength} characters long.")
            .Validate(o => o.Database.PoolWaitSeconds is >= 1 and <= 300, "Catalog:Database:PoolWaitSeconds must be between 1 and 300.")
            .Validate(o => o.Database.Concurrency is null or >= 1, "Catalog:Database:Concurrency must be at least 1.")
            .Validate(o => o.Database.QueueLength >= 0, "Catalog:Database:QueueLength must not be negative.")
            .Validate(o => string.IsNullOrEmpty(o.BootstrapApiKey) || o.BootstrapApiKey.Length >= 16,
                "Catalog:BootstrapApiKey must be at least 16 characters long.")
            .Validate(o => o.Cors.WriteOrigins.All(origin => Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.AbsolutePath == "/"),
                "Catalog:Cors:WriteOrigins must be origins such as https://formulary.example.org (scheme, host and port only).")
            .Validate(o => o.PublicBaseUrl is null || (Uri.TryCreate(o.PublicBaseUrl, UriKind.Absolute, out var uri)
                    && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp) && uri.Query.Length == 0 && uri.Fragment.Length == 0),
                "Catalog:PublicBaseUrl must be an absolute http(s) URL without query or fragment, such as https://catalog.example.org.")
            .Validate(o => o.KnownProxies.All(p => System.Net.IPAddress.TryParse(p, out _)),
                "Catalog:KnownProxies must be IP addresses, such as 10.0.0.5.")
            .Validate(o => o.RateLimits.ReadsPerMinute >= 1 && o.RateLimits.WritesPerMinute >= 1 && o.RateLimits.FailedAuthenticationsPerMinute >= 1,
                "Catalog:RateLimits:ReadsPerMinute, WritesPerMinute and FailedAuthenticationsPerMinute must be at least 1.")
            .ValidateOnStart();
        return services;
    }
}
