using System.Net;
using System.Net.Sockets;

namespace TherapyCatalog.Tests.Infrastructure;

/// <summary>
/// A TCP relay between the application and PostgreSQL that a test can cut and restore: cut, it
/// resets every open connection and refuses new ones, which is what the application sees when
/// the database server goes down. It works the same whichever server the run uses.
/// </summary>
public sealed class DatabaseLink : IAsyncDisposable
{
    private readonly IPEndPoint _upstream;
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;
    private CancellationTokenSource _running = new();

    public DatabaseLink(string host, int port)
    {
        _upstream = new IPEndPoint(Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork), port);
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Restore();
    }

    public int Port { get; }

    public void Restore()
    {
        _running = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _ = AcceptAsync(_listener, _running.Token);
    }

    public void Cut()
    {
        _running.Cancel();
        _listener?.Stop();
        lock (_open)
        {
            foreach (var client in _open)
            {
                if (client.Client is { Connected: true } socket)
                {
                    socket.LingerState = new LingerOption(true, 0); // close with a reset, as a dying server does
                }

                client.Dispose();
            }

            _open.Clear();
        }
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient downstream;
            try
            {
                downstream = await listener.AcceptTcpClientAsync(ct);
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }

            _ = RelayAsync(downstream, ct);
        }
    }

    private async Task RelayAsync(TcpClient downstream, CancellationToken ct)
    {
        var upstream = new TcpClient();
        lock (_open)
        {
            _open.Add(downstream);
            _open.Add(upstream);
        }

        try
        {
            await upstream.ConnectAsync(_upstream, ct);
            var a = downstream.GetStream();
            var b = upstream.GetStream();
            await Task.WhenAny(a.CopyToAsync(b, ct), b.CopyToAsync(a, ct));
        }
        catch (Exception)
        {
            // A cut link ends its relays; nothing to report.
        }
        finally
        {
            lock (_open)
            {
                _open.Remove(downstream);
                _open.Remove(upstream);
            }

            downstream.Dispose();
            upstream.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        return ValueTask.CompletedTask;
    }
}
