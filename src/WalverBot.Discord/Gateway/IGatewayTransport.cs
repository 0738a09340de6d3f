namespace WalverBot.Discord.Gateway;

/// <summary>
/// One WebSocket connection to the Discord gateway, reduced to what a shard needs: whole text
/// messages in and out, and the close status when the connection ends. A transport is used for a
/// single connection; the shard asks <see cref="IGatewayTransportFactory"/> for a new one on every reconnect.
/// </summary>
public interface IGatewayTransport : IAsyncDisposable
{
    /// <summary>Opens the connection.</summary>
    Task ConnectAsync(Uri uri, CancellationToken cancellationToken);

    /// <summary>Sends one text message (a JSON gateway payload).</summary>
    Task SendAsync(string message, CancellationToken cancellationToken);

    /// <summary>
    /// Waits for the next whole message, reassembling messages that arrive in several frames.
    /// When the peer closes the connection, returns a message with <see cref="GatewayMessage.IsClose"/> set;
    /// a connection lost without a close frame either throws or returns a close with no status.
    /// </summary>
    Task<GatewayMessage> ReceiveAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Sends a close frame with the given status and lets the connection go. Never throws for a
    /// connection that is already broken.
    /// </summary>
    Task CloseAsync(int closeStatus, string reason, CancellationToken cancellationToken);
}

/// <summary>Creates a fresh <see cref="IGatewayTransport"/> for each connection attempt.</summary>
public interface IGatewayTransportFactory
{
    /// <summary>A new, unconnected transport.</summary>
    IGatewayTransport Create();
}

/// <summary>A whole message received from the gateway, or the end of the connection.</summary>
/// <param name="Text">The message text (a JSON payload); null for a close.</param>
/// <param name="CloseStatus">The close status sent by the peer; null when the connection was lost without one.</param>
/// <param name="CloseDescription">The close reason text, when any.</param>
public sealed record GatewayMessage(string? Text, int? CloseStatus = null, string? CloseDescription = null)
{
    /// <summary>True when this marks the end of the connection rather than a payload.</summary>
    public bool IsClose => Text is null;

    /// <summary>A text message.</summary>
    public static GatewayMessage FromText(string text) => new(text);

    /// <summary>The end of the connection, with the peer's close status when it sent one.</summary>
    public static GatewayMessage Closed(int? status, string? description = null) => new(null, status, description);
}
