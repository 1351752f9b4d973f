using Npgsql;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Wakes long polls of the change feed: one connection per process LISTENs on
/// <c>catalog_changes</c> (NOTIFY'd by a trigger on <c>changes</c>, delivered at commit) and
/// completes every pending wait. It is only a hint to look again sooner: the feed's watermark
/// also moves when an older transaction ends without writing (a rollback sends no NOTIFY), so
/// waiters re-read the feed at least once a second whatever happens here. The connection is
/// opened on the first long poll (or the first use of <see cref="Epoch"/>), not at start-up, and
/// re-opened after a failure. <see cref="Epoch"/> lets <c>TherapyETags</c> know nothing changed.
/// </summary>
public sealed class ChangeSignal(NpgsqlDataSource dataSource, ILogger<ChangeSignal> logger) : BackgroundService
{
    public const string Channel = "catalog_changes";

    /// <summary>How long without word from the listening connection (a notification or a ping) before <see cref="Epoch"/> is no longer trusted.</summary>
    public static readonly TimeSpan HeardWithin = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan PingWhenQuiet = TimeSpan.FromSeconds(1);

    private readonly TaskCompletionSource _firstWaiter = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private long _epoch;
    private bool _listening;
    private long _lastHeard;

    /// <summary>
    /// A number that changes whenever a change may have been committed that this process has not
    /// been told about: on every notification, and when the listening connection is lost or
    /// (re)opened. Null while nothing listens, or when the connection has not been heard from
    /// (notification or ping) within <see cref="HeardWithin"/>: then no one can say what changed.
    /// Two equal non-null readings mean no notification arrived in between.
    /// </summary>
    public long? Epoch
    {
        get
        {
            lock (_gate)
            {
                return _listening && Environment.TickCount64 - _lastHeard < HeardWithin.TotalMilliseconds ? _epoch : null;
            }
        }
    }

    /// <summary>
    /// Whether the server answered the listening connection (a notification or a ping) within
    /// <see cref="HeardWithin"/>; null while nothing listens (not started yet, or reconnecting), when
    /// no one can say. <see cref="DatabaseBusy"/> asks it to tell a slow database from a silent one.
    /// </summary>
    public bool? ServerAnswering
    {
        get
        {
            lock (_gate)
            {
                return _listening ? Environment.TickCount64 - _lastHeard < HeardWithin.TotalMilliseconds : null;
            }
        }
    }

    /// <summary>Starts listening now rather than at the first long poll (for users of <see cref="Epoch"/>).</summary>
    public void StartListening() => _firstWaiter.TrySetResult();

    /// <summary>Moves <see cref="Epoch"/> on: a change was committed (by this process, after its commit returned).</summary>
    public void Invalidate()
    {
        lock (_gate)
        {
            _epoch++;
        }
    }

    /// <summary>Completes when a change is committed, or after <paramref name="timeout"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        _firstWaiter.TrySetResult();
        var next = Volatile.Read(ref _next).Task;
        await Task.WhenAny(next, Task.Delay(timeout, ct));
        ct.ThrowIfCancellationRequested();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await _firstWaiter.Task.WaitAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var db = await dataSource.OpenConnectionAsync(stoppingToken);
                db.Notification += (_, _) =>
                {
                    Heard();
                    Signal();
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", db))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                // Listening from here on: every commit with changes after this point notifies us.
                lock (_gate)
                {
                    _epoch++;
                    _listening = true;
                }

                Heard();
                while (!stoppingToken.IsCancellationRequested)
                {
                    if (!await db.WaitAsync(PingWhenQuiet, stoppingToken))
                    {
                        // Quiet for a moment: a round trip makes a dead connection show itself,
                        // and tells Epoch's readers the connection still hears the server.
                        await using var ping = new NpgsqlCommand("SELECT 1", db);
                        await ping.ExecuteNonQueryAsync(stoppingToken);
                    }

                    Heard();
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Deaf();
                // Never let a failure here stop the host: long polls then simply poll.
                logger.LogWarning("Change notifications interrupted ({Message}); long polls fall back to polling", e.Message);
                Signal(); // waiters look again rather than sleep on a dead channel
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            finally
            {
                Deaf();
            }
        }
    }

    private void Heard()
    {
        lock (_gate)
        {
            _lastHeard = Environment.TickCount64;
        }
    }

    /// <summary>Not listening: whatever was read before can no longer be vouched for.</summary>
    private void Deaf()
    {
        lock (_gate)
        {
            _listening = false;
            _epoch++;
        }
    }

    private void Signal()
    {
        lock (_gate)
        {
            _epoch++;
        }

        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}

public static class ChangeSignalSetup
{
    /// <summary>One <see cref="ChangeSignal"/> for the process, listening from start-up.</summary>
    public static IServiceCollection AddChangeSignal(this IServiceCollection services)
    {
        services.AddSingleton<ChangeSignal>();
        services.AddHostedService(provider => provider.GetRequiredService<ChangeSignal>());
        return services;
    }
}
