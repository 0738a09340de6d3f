using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using WalverBot.Discord.Gateway;

namespace WalverBot.Discord.Tests.Gateway;

/// <summary>
/// A scripted gateway: hands the shard one <see cref="FakeGatewayConnection"/> per connection attempt
/// and lets the test play Discord's side of each.
/// </summary>
internal sealed class FakeGatewayServer : IGatewayTransportFactory
{
    private readonly Channel<FakeGatewayConnection> _connected = Channel.CreateUnbounded<FakeGatewayConnection>();
    private readonly List<FakeGatewayConnection> _all = [];

    public IReadOnlyList<FakeGatewayConnection> Connections
    {
        get
        {
            lock (_all)
            {
                return [.. _all];
            }
        }
    }

    /// <summary>Connections opened so far that the test has not taken with <see cref="NextConnectionAsync"/>.</summary>
    public int WaitingConnections => _connected.Reader.Count;

    public IGatewayTransport Create() => new FakeGatewayConnection(this);

    public async Task<FakeGatewayConnection> NextConnectionAsync() =>
        await _connected.Reader.ReadAsync().AsTask().WaitAsync(Timeouts.Signal);

    internal void OnConnected(FakeGatewayConnection connection)
    {
        lock (_all)
        {
            _all.Add(connection);
        }

        _connected.Writer.TryWrite(connection);
    }
}

/// <summary>One connection as Discord would see it: what the shard sent, and what to send it.</summary>
internal sealed class FakeGatewayConnection(FakeGatewayServer server) : IGatewayTransport
{
    private static readonly GatewayMessage DropSignal = GatewayMessage.Closed(-1);

    private readonly Channel<GatewayMessage> _inbound = Channel.CreateUnbounded<GatewayMessage>();
    private readonly Channel<JsonElement> _sent = Channel.CreateUnbounded<JsonElement>();
    private readonly List<JsonElement> _allSent = [];
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource<int> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _reads;
    private int _delivered;
    private bool _ended;
    private volatile bool _readCancelled;

    public Uri? Uri { get; private set; }

    /// <summary>Whether the close frame the shard sends is answered at once (as Discord does); if not, see <see cref="AnswerCloseAsync"/>.</summary>
    public bool AnswersClose { get; set; } = true;

    /// <summary>A read of the shard's was cancelled: on a real WebSocket that aborts the connection.</summary>
    public bool ReadCancelled => _readCancelled;

    /// <summary>Completes with the close status the shard sent when it let the connection go.</summary>
    public Task<int> Closed => _closed.Task;

    public IReadOnlyList<JsonElement> AllSent
    {
        get
        {
            lock (_lock)
            {
                return [.. _allSent];
            }
        }
    }

    public int UnreadSentCount => _sent.Reader.Count;

    // --- the shard's side -------------------------------------------------------------------

    public Task ConnectAsync(Uri uri, CancellationToken cancellationToken)
    {
        Uri = uri;
        server.OnConnected(this);
        return Task.CompletedTask;
    }

    public Task SendAsync(string message, CancellationToken cancellationToken)
    {
        var payload = JsonDocument.Parse(message).RootElement.Clone();
        lock (_lock)
        {
            _allSent.Add(payload);
        }

        _sent.Writer.TryWrite(payload);
        return Task.CompletedTask;
    }

    public async Task<GatewayMessage> ReceiveAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _reads++;
            Progress();
        }

        GatewayMessage message;
        try
        {
            message = await _inbound.Reader.ReadAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            _readCancelled = true;
            throw;
        }

        if (ReferenceEquals(message, DropSignal))
        {
            throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The remote party closed the WebSocket connection without completing the close handshake.");
        }

        return message;
    }

    public Task CloseAsync(int closeStatus, string reason, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _ended = true;
            Progress();
        }

        _closed.TrySetResult(closeStatus);
        if (AnswersClose)
        {
            // A server answers a close frame with its own (RFC 6455 §5.5.1); the shard's receive loop reads it and ends.
            _inbound.Writer.TryWrite(GatewayMessage.Closed(closeStatus, reason));
        }

        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _ended = true;
            Progress();
        }

        return ValueTask.CompletedTask;
    }

    // --- Discord's side ---------------------------------------------------------------------

    /// <summary>Sends a payload and waits until the shard has handled it (it reads again, or lets the connection go).</summary>
    public async Task DeliverAsync(string json)
    {
        int target;
        lock (_lock)
        {
            _delivered++;
            target = _delivered + 1;
        }

        _inbound.Writer.TryWrite(GatewayMessage.FromText(json));
        await WaitUntilAsync(() => _reads >= target || _ended);
    }

    public Task HelloAsync(int heartbeatIntervalMs) =>
        DeliverAsync($$$"""{"op":10,"d":{"heartbeat_interval":{{{heartbeatIntervalMs}}}},"s":null,"t":null}""");

    public Task AckAsync() => DeliverAsync("""{"op":11,"d":null,"s":null,"t":null}""");

    public Task DispatchAsync(string eventName, int sequence, string data = "{}") =>
        DeliverAsync($$$"""{"op":0,"s":{{{sequence}}},"t":"{{{eventName}}}","d":{{{data}}}}""");

    public Task ReadyAsync(int sequence = 1, string sessionId = "session-1", string resumeUrl = "wss://resume.test") =>
        DispatchAsync("READY", sequence, $$$"""
            {"v":10,"user":{"id":"1160000000000000001","username":"walverbot","discriminator":"0","bot":true},
             "guilds":[{"id":"197038439483310086","unavailable":true}],"session_id":"{{{sessionId}}}",
             "resume_gateway_url":"{{{resumeUrl}}}","shard":[0,1],"application":{"id":"1160000000000000001"}}
            """);

    public Task ResumedAsync(int sequence) => DispatchAsync("RESUMED", sequence);

    public Task OpAsync(int op, string data = "null") => DeliverAsync($$$"""{"op":{{{op}}},"d":{{{data}}},"s":null,"t":null}""");

    /// <summary>Closes from Discord's side with a close frame.</summary>
    public async Task CloseFromServerAsync(int status)
    {
        _inbound.Writer.TryWrite(GatewayMessage.Closed(status, "closed by the fake"));
        await Closed.WaitAsync(Timeouts.Signal);
    }

    /// <summary>Answers the close frame the shard sent (when <see cref="AnswersClose"/> is off).</summary>
    public async Task AnswerCloseAsync()
    {
        _inbound.Writer.TryWrite(GatewayMessage.Closed(await Closed, "closing"));
    }

    /// <summary>Loses the connection without a close frame.</summary>
    public async Task DropAsync()
    {
        _inbound.Writer.TryWrite(DropSignal);
        await Closed.WaitAsync(Timeouts.Signal);
    }

    /// <summary>The next payload the shard sent on this connection.</summary>
    public async Task<JsonElement> NextSentAsync() => await _sent.Reader.ReadAsync().AsTask().WaitAsync(Timeouts.Signal);

    /// <summary>The next payload with the given opcode, skipping others (such as heartbeats).</summary>
    public async Task<JsonElement> NextSentAsync(int op)
    {
        while (true)
        {
            var payload = await NextSentAsync();
            if (payload.GetProperty("op").GetInt32() == op)
            {
                return payload;
            }
        }
    }

    private void Progress()
    {
        var previous = _progress;
        _progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    private async Task WaitUntilAsync(Func<bool> condition)
    {
        while (true)
        {
            Task progress;
            lock (_lock)
            {
                if (condition())
                {
                    return;
                }

                progress = _progress.Task;
            }

            await progress.WaitAsync(Timeouts.Signal);
        }
    }
}

internal static class Timeouts
{
    /// <summary>How long a test waits for something the code under test should do at once (real time, only hit on failure).</summary>
    public static readonly TimeSpan Signal = TimeSpan.FromSeconds(10);
}
