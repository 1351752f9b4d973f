using Npgsql;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Tells a busy database from an unavailable one, so a 503 says which. Npgsql reports both a full
/// pool ("The connection pool has been exhausted ...") and a connection or command that ran out of
/// time ("The operation has timed out") as an <see cref="NpgsqlException"/> wrapping a
/// <see cref="TimeoutException"/>; a server that is down or restarting is not a timeout at all
/// (connection refused or reset, SQLSTATE 57P0x/08xxx), and stays "unavailable". A timeout is "busy"
/// when the database is known to be answering: the change signal's own connection (see
/// <see cref="ChangeSignal.ServerAnswering"/>) heard from it within the last few seconds. A full pool
/// is busy unless that connection says the server has gone silent (every pooled connection then hangs
/// on a server that does not answer: an outage, not load).
/// </summary>
public static class DatabaseBusy
{
    /// <summary>The 503 problem's detail for a busy database.</summary>
    public static string Detail(int retryAfterSeconds) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"The service is busy: no database connection came free in time. Retry after {retryAfterSeconds} s.");

    public static bool IsBusy(Exception exception, ChangeSignal? signal)
    {
        if (exception is DatabaseBusyException)
        {
            return true;
        }

        if (TimedOut(exception) is not { } timeout)
        {
            return false;
        }

        var answering = signal?.ServerAnswering;
        return IsPoolExhausted(timeout) ? answering != false : answering == true;
    }

    /// <summary>The Npgsql exception in the chain that wraps a timeout, if any.</summary>
    private static NpgsqlException? TimedOut(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException npgsql and not PostgresException && npgsql.InnerException is TimeoutException)
            {
                return npgsql;
            }
        }

        return null;
    }

    // Npgsql gives a full pool no exception type or code of its own: its message is the only mark.
    // BusyPoolTests pins it, so an Npgsql upgrade that rewords it fails a test rather than the answer.
    private static bool IsPoolExhausted(NpgsqlException exception) =>
        exception.Message.StartsWith("The connection pool has been exhausted", StringComparison.Ordinal);
}
