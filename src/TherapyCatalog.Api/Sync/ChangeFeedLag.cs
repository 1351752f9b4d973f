using System.Diagnostics.Metrics;
using System.Globalization;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Sync;

/// <summary>
/// How far the change feed's readers are behind: the changes committed after the newest position
/// this process handed out from GET /v1/changes (a change's cursor or a page's nextCursor), and how
/// old the oldest of them is. Measured every <see cref="SampleInterval"/> while metrics are on, and
/// shown as two gauges (<c>catalog.change_feed.lag</c>, <c>catalog.change_feed.lag.age</c>); absent
/// until a reader has been handed a position, and while the database does not answer (no stale
/// figure is shown). Per process: with several instances, the reader furthest ahead on each.
/// </summary>
public sealed class ChangeFeedLag : BackgroundService
{
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The changes after a position, overtaken and not yet settled ones included: each is a change
    /// some reader has still to be handed (or moved past).
    /// </summary>
    private const string LagSql = """
        SELECT count(*) AS Changes,
               COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(v.changed_at)), 0)::float8 AS OldestSeconds
        FROM changes c
        JOIN therapy_versions v ON v.therapy_id = c.therapy_id AND v.version = c.version
        WHERE (c.txid, c.seq) > (@Txid::text::xid8, @Seq)
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _enabled;
    private readonly ILogger<ChangeFeedLag> _logger;
    private readonly Lock _gate = new();
    private ChangeFeedPosition? _newestHandedOut;
    private Sample? _sample;

    public ChangeFeedLag(NpgsqlDataSource dataSource, IOptions<CatalogOptions> options, IMeterFactory meters, ILogger<ChangeFeedLag> logger)
    {
        _dataSource = dataSource;
        _enabled = options.Value.Metrics.Enabled;
        _logger = logger;
        var meter = meters.Create(CatalogMetrics.MeterName);
        meter.CreateObservableGauge("catalog.change_feed.lag", () => Current() is { } s ? [new Measurement<long>(s.Changes)] : Array.Empty<Measurement<long>>(),
            "{change}", "Changes committed after the newest position GET /v1/changes handed out");
        meter.CreateObservableGauge("catalog.change_feed.lag.age", () => Current() is { } s ? [new Measurement<double>(s.OldestSeconds)] : Array.Empty<Measurement<double>>(),
            "s", "Age of the oldest change committed after the newest position GET /v1/changes handed out (0 when none)");
    }

    private sealed record Sample(long Changes, double OldestSeconds);

    /// <summary>A position GET /v1/changes is about to hand out.</summary>
    public void HandedOut(ChangeFeedPosition position)
    {
        lock (_gate)
        {
            if (_newestHandedOut is not { } newest
                || (position.TransactionId, position.Sequence).CompareTo((newest.TransactionId, newest.Sequence)) > 0)
            {
                _newestHandedOut = position;
            }
        }
    }

    private Sample? Current()
    {
        lock (_gate)
        {
            return _sample;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(SampleInterval);
        do
        {
            ChangeFeedPosition? position;
            lock (_gate)
            {
                position = _newestHandedOut;
            }

            if (position is not { } p)
            {
                continue;
            }

            Sample? sample = null;
            try
            {
                await using var db = await _dataSource.OpenConnectionAsync(stoppingToken);
                sample = await db.QuerySingleAsync<Sample>(new CommandDefinition(LagSql,
                    new { Txid = p.TransactionId.ToString(CultureInfo.InvariantCulture), Seq = p.Sequence }, cancellationToken: stoppingToken));
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                _logger.LogDebug("Change-feed lag not measured: {Message}", e.Message);
            }

            lock (_gate)
            {
                _sample = sample;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
