using System.Buffers;
using System.Net.WebSockets;
using System.Text;

namespace WalverBot.Discord.Gateway;

/// <summary>The production <see cref="IGatewayTransport"/> on <see cref="ClientWebSocket"/>.</summary>
public sealed class ClientWebSocketTransport : IGatewayTransport
{
    // A close frame to a dead (zombie) peer must not hold the reconnect up for long.
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly ClientWebSocket _socket = new();

    /// <inheritdoc />
    public Task ConnectAsync(Uri uri, CancellationToken cancellationToken) => _socket.ConnectAsync(uri, cancellationToken);

    /// <inheritdoc />
    public Task SendAsync(string message, CancellationToken cancellationToken) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    /// <inheritdoc />
    public async Task<GatewayMessage> ReceiveAsync(CancellationToken cancellationToken)
    {
        try
        {
            var text = await WebSocketMessageReader.ReadMessageAsync((buffer, ct) => _socket.ReceiveAsync(buffer, ct), cancellationToken);
            return text is not null
                ? GatewayMessage.FromText(text)
                : GatewayMessage.Closed((int?)_socket.CloseStatus, _socket.CloseStatusDescription);
        }
        catch (WebSocketException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The peer went away without a close frame (network drop, proxy reset): no status to report.
            return GatewayMessage.Closed(null, ex.Message);
        }
    }

    /// <inheritdoc />
    public async Task CloseAsync(int closeStatus, string reason, CancellationToken cancellationToken)
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CloseTimeout);
        try
        {
            // CloseOutputAsync sends our close frame without waiting for the peer's answer.
            await _socket.CloseOutputAsync((WebSocketCloseStatus)closeStatus, reason, timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            _socket.Abort();
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Creates <see cref="ClientWebSocketTransport"/> instances.</summary>
public sealed class ClientWebSocketTransportFactory : IGatewayTransportFactory
{
    /// <inheritdoc />
    public IGatewayTransport Create() => new ClientWebSocketTransport();
}

/// <summary>Reassembles one WebSocket message from as many frames as it arrives in.</summary>
internal static class WebSocketMessageReader
{
    private const int ChunkSize = 16 * 1024;

    public delegate ValueTask<ValueWebSocketReceiveResult> ReceiveFrame(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>The next whole text message, or null when the peer sent a close frame.</summary>
    public static async Task<string?> ReadMessageAsync(ReceiveFrame receive, CancellationToken cancellationToken)
    {
        var message = new ArrayBufferWriter<byte>(ChunkSize);
        while (true)
        {
            var result = await receive(message.GetMemory(ChunkSize), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Advance(result.Count);
            if (result.EndOfMessage)
            {
                // Large dispatches (GUILD_CREATE of a big guild) span many frames; decode only once whole,
                // so a multi-byte character split across frames stays intact.
                return Encoding.UTF8.GetString(message.WrittenSpan);
            }
        }
    }
}
