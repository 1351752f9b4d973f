using Npgsql;

namespace TherapyCatalog.Api.Sync;

/// <summary>
/// Wakes long polls of the change feed: one connection per process LISTENs on
/// <c>catalog_changes</c> (NOTIFY'd by a trigger on <c>changes</c>, delivered at commit) and
/// completes every pending wait. It is only a hint to look again sooner: the feed's watermark
/// also moves when an older transaction ends without writing (a rollback sends no NOTIFY), so
/// waiters re-read the feed at least once a second whatever happens here. The connection is
/// opened on the first long poll, not at start-up, and re-opened after a failure.
/// </summary>
public sealed class ChangeSignal(NpgsqlDataSource dataSource, ILogger<ChangeSignal> logger) : BackgroundService
{
    public const string Channel = "catalog_changes";

    private readonly TaskCompletionSource _firstWaiter = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

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
                db.Notification += (_, _) => Signal();
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", db))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                while (!stoppingToken.IsCancellationRequested)
                {
                    if (!await db.WaitAsync(TimeSpan.FromSeconds(30), stoppingToken))
                    {
                        // Quiet for a while: a round trip makes a dead connection show itself.
                        await using var ping = new NpgsqlCommand("SELECT 1", db);
                        await ping.ExecuteNonQueryAsync(stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Never let a failure here stop the host: long polls then simply poll.
                logger.LogWarning("Change notifications interrupted ({Message}); long polls fall back to polling", e.Message);
                Signal(); // waiters look again rather than sleep on a dead channel
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private void Signal() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
