using System.Net;
using System.Net.Sockets;

namespace WalverBot.Testing.Net;

/// <summary>
/// A loopback port that refuses connections until <see cref="Start"/>, then relays every connection on it to another
/// port, both ways, until disposed: a server that "comes up" on a port the code under test already tries (a chain
/// node's WebSocket, a PostgreSQL server starting after the bot).
/// </summary>
/// <remarks>
/// The port is bound from the start and only listens once started. A TCP connection to a bound port that does not
/// listen is refused, as to a free one, and no other process can take the port meanwhile: a port probed free and bound
/// later could be taken in between by another suite's server on a loaded machine (see <see cref="LoopbackPort"/>).
/// </remarks>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private Task _accepting = Task.CompletedTask;

    private TcpRelay() => _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

    /// <summary>A port of its own that refuses connections until <see cref="Start"/>.</summary>
    public static TcpRelay Reserve() => new();

    public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    /// <summary>Starts listening: from now on each connection is relayed to <paramref name="target"/> on loopback.</summary>
    public void Start(int target)
    {
        _socket.Listen();
        _accepting = AcceptAsync(target);
    }

    private async Task AcceptAsync(int target)
    {
        var pipes = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _socket.AcceptAsync(_stop.Token);
                var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await server.ConnectAsync(new IPEndPoint(IPAddress.Loopback, target), _stop.Token);
                pipes.Add(PipeAsync(client, server));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(pipes);
    }

    private async Task PipeAsync(Socket client, Socket server)
    {
        await using var clientStream = new NetworkStream(client, ownsSocket: true);
        await using var serverStream = new NetworkStream(server, ownsSocket: true);
        var a = clientStream.CopyToAsync(serverStream, _stop.Token);
        var b = serverStream.CopyToAsync(clientStream, _stop.Token);
        try
        {
            await Task.WhenAny(a, b);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        await _accepting;
        _stop.Dispose();
    }
}
