namespace WalverBot.Testing.Net;

/// <summary>
/// Relays every loopback connection on one port to another, both ways, until disposed: a server that "comes up" on a
/// port the code under test already tries (a chain node's WebSocket, a PostgreSQL server starting after the bot).
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly System.Net.Sockets.TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private TcpRelay(int port, int target)
    {
        _listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        _listener.Start();
        _accepting = AcceptAsync(target);
    }

    public static TcpRelay Start(int port, int target) => new(port, target);

    /// <summary>A loopback port nothing listens on now: connections to it are refused until a relay starts there.</summary>
    public static int UnusedPort() => LoopbackPort.Unused();

    private async Task AcceptAsync(int target)
    {
        var pipes = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var server = new System.Net.Sockets.TcpClient();
                await server.ConnectAsync(System.Net.IPAddress.Loopback, target, _stop.Token);
                pipes.Add(PipeAsync(client, server));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(pipes);
    }

    private async Task PipeAsync(System.Net.Sockets.TcpClient client, System.Net.Sockets.TcpClient server)
    {
        using (client)
        using (server)
        {
            var a = client.GetStream().CopyToAsync(server.GetStream(), _stop.Token);
            var b = server.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
            try
            {
                await Task.WhenAny(a, b);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
