using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace WalverBot.Testing.FakeDiscord;

/// <summary>
/// One WebSocket connection of the fake gateway: whole messages in, JSON payloads out (optionally fragmented),
/// close codes either way, the per-connection send limit, and the heartbeat deadline. Knows nothing of sessions
/// beyond the one it carries.
/// </summary>
internal sealed class FakeGatewayConnection(int id, WebSocket socket, HttpContext http, string path, string query, Lock gate, Action changed)
{
    // Discord: app-sent payloads may not exceed 4096 bytes (close 4002).
    public const int MaxClientPayloadBytes = 4096;

    private readonly Queue<DateTimeOffset> _recent = new();
    private readonly Lock _life = new();
    private ITimer? _heartbeatDeadline;
    private volatile bool _frozen;

    public int Id { get; } = id;

    public WebSocket Socket { get; } = socket;

    public HttpContext Http { get; } = http;

    public string Path { get; } = path;

    public SemaphoreSlim SendLock { get; } = new(1, 1);

    public FakeGatewaySession? Session { get; set; }

    public bool Open { get; private set; } = true;

    public int? ServerCloseCode { get; private set; }

    public int? ClientCloseCode { get; private set; }

    public bool Aborted { get; set; }

    /// <summary>A zombie: nothing more is sent on this connection.</summary>
    public bool Frozen
    {
        get => _frozen;
        set => _frozen = value;
    }

    /// <summary>The next whole message, or null once the client sent its close frame (answered here).</summary>
    public async Task<(byte[] Bytes, WebSocketMessageType Type)?> ReceiveAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await Socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await OnClientCloseAsync((int?)result.CloseStatus, result.CloseStatusDescription).ConfigureAwait(false);
                return null;
            }

            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return (message.ToArray(), result.MessageType);
    }

    /// <summary>Counts a received payload; false once more than <paramref name="max"/> arrived within 60 s.</summary>
    public bool CountSend(DateTimeOffset now, int max)
    {
        while (_recent.Count > 0 && now - _recent.Peek() >= TimeSpan.FromSeconds(60))
        {
            _recent.Dequeue();
        }

        _recent.Enqueue(now);
        return _recent.Count <= max;
    }

    /// <summary>
    /// (Re)arms the heartbeat deadline: unless another heartbeat arrives within <paramref name="within"/>, the
    /// connection is closed with 4009. Real time on purpose: it is about a live socket, and tests that move a
    /// fake clock for rate limits must not kill connections whose client heartbeats on real time.
    /// </summary>
    public void ExpectHeartbeatWithin(TimeSpan within)
    {
        lock (_life)
        {
            if (!Open)
            {
                return;
            }

            _heartbeatDeadline ??= TimeProvider.System.CreateTimer(_ => _ = OnHeartbeatMissedAsync(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _heartbeatDeadline.Change(within, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Whether the session this connection started or resumed is still on it. Once a RESUME has moved the session to a
    /// newer connection, what happens to this one (a late close, its heartbeat deadline) no longer ends the session:
    /// on a loaded machine a zombie connection's deadline can run out after the bot has resumed elsewhere, and it used
    /// to mark the live session ended. Called under the recorder's lock, which also guards <see cref="FakeGatewaySession.Connection"/>.
    /// </summary>
    private bool CarriesItsSession() => Session is { } session && ReferenceEquals(session.Connection, this);

    /// <summary>A client that is already closing (its close frame arrived) is not timed out on top.</summary>
    private Task OnHeartbeatMissedAsync() => ClientCloseCode is null ? CloseAsync(4009, "Session timed out.") : Task.CompletedTask;

    public async Task SendAsync(JsonObject payload, int fragments = 1)
    {
        if (payload["op"]?.GetValue<int>() != 0)
        {
            payload["s"] = null;
            payload["t"] = null;
        }

        var bytes = Encoding.UTF8.GetBytes(payload.ToJsonString());
        await SendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (Socket.State != WebSocketState.Open || ServerCloseCode is not null || Frozen)
            {
                return;
            }

            var size = (int)Math.Ceiling(bytes.Length / (double)fragments);
            for (var offset = 0; offset < bytes.Length; offset += size)
            {
                var count = Math.Min(size, bytes.Length - offset);
                await Socket.SendAsync(bytes.AsMemory(offset, count), WebSocketMessageType.Text, offset + count >= bytes.Length, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or IOException or OperationCanceledException)
        {
            // The bot went away; the connection's own loop records that.
        }
        finally
        {
            SendLock.Release();
        }
    }

    /// <summary>Closes with a gateway close code. Discord: 4007 and 4009 also end the session (a RESUME then gets op 9).</summary>
    public async Task CloseAsync(int code, string reason)
    {
        await SendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            lock (gate)
            {
                if (ServerCloseCode is not null)
                {
                    return;
                }

                ServerCloseCode = code;
                if (code is 4007 or 4009 && CarriesItsSession())
                {
                    Session!.Invalid = true;
                }
            }

            if (Socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await Socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or IOException)
        {
        }
        finally
        {
            SendLock.Release();
        }

        changed();

        // A client that never answers the close frame is cut off, as a server would.
        _ = Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => Abort(), TaskScheduler.Default);
    }

    private async Task OnClientCloseAsync(int? code, string? reason)
    {
        lock (gate)
        {
            ClientCloseCode = code;
            // Discord: closing with 1000 or 1001 invalidates the session.
            if (code is 1000 or 1001 && CarriesItsSession())
            {
                Session!.Invalid = true;
            }
        }

        await SendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (ServerCloseCode is null && !Frozen && Socket.State == WebSocketState.CloseReceived)
            {
                await Socket.CloseOutputAsync((WebSocketCloseStatus)(code ?? 1000), reason, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            SendLock.Release();
        }
    }

    /// <summary>Called by the handler before it returns; after that Kestrel disposes (and may reuse) the HttpContext.</summary>
    public void MarkEnded()
    {
        lock (_life)
        {
            Open = false;
            _heartbeatDeadline?.Dispose();
        }
    }

    public void Abort()
    {
        // The check and the HttpContext call are one step under _life: aborting the socket first let the
        // handler return (and Kestrel dispose the context) before Http.Abort ran, which then threw
        // ObjectDisposedException into the test that called DropConnection.
        lock (_life)
        {
            if (!Open)
            {
                return;
            }

            Aborted = true;
            _heartbeatDeadline?.Dispose(); // a connection cut off is not timed out afterwards
            Http.Abort();
        }

        Socket.Abort();
    }

    public FakeGatewayConnectionInfo Info() => new(Id, Path, query, Open, ServerCloseCode, ClientCloseCode, Aborted && ServerCloseCode is null && ClientCloseCode is null);
}
