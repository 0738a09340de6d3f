using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Gateway;

/// <summary>What a shard needs to know about itself.</summary>
/// <param name="Token">The bot token; sent in IDENTIFY and RESUME only, never logged.</param>
/// <param name="ShardId">This shard's id.</param>
/// <param name="ShardCount">Total number of shards of the bot.</param>
/// <param name="GatewayUrl">The URL from <c>GET /gateway/bot</c>, used to start new sessions.</param>
/// <param name="Intents">The intents sent in IDENTIFY.</param>
/// <param name="Properties">The connection properties sent in IDENTIFY.</param>
internal sealed record GatewayShardSettings(string Token, int ShardId, int ShardCount, Uri GatewayUrl, GatewayIntents Intents, IdentifyProperties Properties)
{
    /// <summary>Leaves the token out, should the settings ever end up in a log line.</summary>
    public override string ToString() => $"shard {ShardId}/{ShardCount} on {GatewayUrl}";
}

/// <summary>
/// One gateway session (v10, JSON), kept alive across reconnects: HELLO → heartbeats → IDENTIFY or RESUME →
/// dispatches; reconnects with RESUME after drops, op 7 and resumable close codes; identifies anew after
/// op 9 (d:false); stops with <see cref="GatewayFatalException"/> on a close code retrying cannot fix.
/// Lifecycle per https://discord.com/developers/docs/events/gateway#connection-lifecycle.
/// </summary>
internal sealed class GatewayShard
{
    private static DiscordJsonContext Json => DiscordJsonContext.Default;

    private const int OpDispatch = 0, OpHeartbeat = 1, OpIdentify = 2, OpResume = 6, OpReconnect = 7, OpInvalidSession = 9, OpHello = 10, OpHeartbeatAck = 11;

    // Closing with 1000 or 1001 invalidates the session; any other code keeps it resumable (docs: gateway#resuming).
    private const int ResumableCloseStatus = 4000;
    private const int NormalCloseStatus = 1000;

    // A session Discord no longer holds is answered with op 9; this covers a resume host that stays unreachable.
    private const int MaxFailedResumes = 5;

    // Dispatches read but not yet handed to the dispatcher. When full, the receive loop waits: the backpressure of
    // slow handlers ends at the socket instead of in memory. (A big GUILD_CREATE is one entry.)
    internal const int EventQueueCapacity = 256;

    // Discord sends HELLO right after the WebSocket opens; a connection that has not got that far is stuck.
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);

    // How long a shutdown waits for Discord to answer our close frame: it answers within a round trip; a peer that
    // does not is let go.
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(2);

    private readonly GatewayShardSettings _settings;
    private readonly IGatewayTransportFactory _transports;
    private readonly IdentifyGate _identifyGate;
    private readonly IReconnectStrategy _reconnect;
    private readonly IGatewayDispatchTarget _dispatcher;
    private readonly GatewayStatus _status;
    private readonly GatewayShardMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<double> _random;

    private string? _sessionId;
    private Uri? _resumeUrl;
    private long _sequence = -1;
    private int _failedAttempts;

    // The connection whose session is READY or RESUMED, for sends other than the session's own (op 8).
    private volatile Connection? _live;

    // random: a source of values in [0, 1) for the heartbeat jitter and the op 9 wait, fixed in tests.
    public GatewayShard(
        GatewayShardSettings settings,
        IGatewayTransportFactory transports,
        IdentifyGate identifyGate,
        IReconnectStrategy reconnect,
        IGatewayDispatchTarget dispatcher,
        GatewayStatus status,
        GatewayShardMetrics metrics,
        TimeProvider time,
        ILogger logger,
        Func<double>? random = null)
    {
        _settings = settings;
        _transports = transports;
        _identifyGate = identifyGate;
        _reconnect = reconnect;
        _dispatcher = dispatcher;
        _status = status;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _random = random ?? Random.Shared.NextDouble;
    }

    public int ShardId => _settings.ShardId;

    /// <summary>The current session's id (kept across resumes), or null before READY and after the session ended.</summary>
    internal string? SessionId => Volatile.Read(ref _sessionId);

    /// <summary>
    /// Sends a payload on the current session, paced by the connection's send limit; false when the shard has
    /// no ready session (connecting, resuming, or between sessions), so nothing was sent.
    /// </summary>
    public async Task<bool> TrySendAsync(string payload, CancellationToken cancellationToken)
    {
        if (_live is not { } connection)
        {
            return false;
        }

        await SendAsync(connection, payload, heartbeat: false, cancellationToken);
        return true;
    }

    /// <summary>Runs the session until cancelled; throws <see cref="GatewayFatalException"/> on a fatal close.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Dispatches are handled in order on a worker of their own, so parsing a big GUILD_CREATE
        // or a slow cache update never holds up reading (and acknowledging) the socket, up to the queue's capacity.
        var events = Channel.CreateBounded<RawDispatch>(new BoundedChannelOptions(EventQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });
        var worker = Task.Run(() => DispatchWorkerAsync(events.Reader), CancellationToken.None);
        try
        {
            while (true)
            {
                var end = await RunConnectionAsync(events.Writer, cancellationToken);
                if (end.Action == CloseAction.Fatal)
                {
                    throw new GatewayFatalException(ShardId, end.CloseStatus ?? 0);
                }

                await end.ReconnectWait;
            }
        }
        finally
        {
            events.Writer.TryComplete();
            await worker;
        }
    }

    private async Task<ConnectionEnd> RunConnectionAsync(ChannelWriter<RawDispatch> events, CancellationToken cancellationToken)
    {
        var resuming = _sessionId is not null && _resumeUrl is not null;
        if (!resuming)
        {
            await _identifyGate.WaitTurnAsync(ShardId, cancellationToken);
        }

        var uri = WithGatewayQuery(resuming ? _resumeUrl! : _settings.GatewayUrl);
        _status.SetNotReady(ShardId, resuming ? "resuming" : "connecting");
        _logger.LogInformation("Shard {ShardId}: connecting to {GatewayUrl} to {Mode}", ShardId, uri.GetLeftPart(UriPartial.Path), resuming ? "resume" : "identify");

        await using var transport = _transports.Create();
        // The socket's reads and writes are not cancelled by the stop token itself: cancelling a pending WebSocket
        // receive or send aborts the socket, and at shutdown the close frame has to go out, and be answered, first.
        using var connectionCts = new CancellationTokenSource();
        var connection = new Connection(transport, new GatewaySendLimiter(_time), resuming, events);
        var receiving = Task.CompletedTask;
        using var handshake = new CancellationTokenSource(HandshakeTimeout, _time);
        using var connecting = CancellationTokenSource.CreateLinkedTokenSource(connectionCts.Token, handshake.Token, cancellationToken);
        ConnectionEnd end;
        try
        {
            await transport.ConnectAsync(uri, connecting.Token);
            handshake.Token.Register(() =>
            {
                if (!connection.HelloReceived)
                {
                    connection.End(new ConnectionEnd(CloseAction.Resume, $"no HELLO within {HandshakeTimeout.TotalSeconds:0} s"));
                }
            });
            receiving = ReceiveLoopAsync(connection, connectionCts.Token);
            end = await connection.Ended.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: a normal close ends the session, so Discord shows the bot offline at once.
            _live = null;
            await CloseForShutdownAsync(connection, receiving);
            await connectionCts.CancelAsync();
            await Quietly(receiving);
            await Quietly(connection.Heartbeating);
            throw;
        }
        catch (Exception ex)
        {
            end = new ConnectionEnd(CloseAction.Resume, $"could not connect: {ex.Message}");
        }

        _live = null;
        end = Plan(end, connection.ReachedReady, cancellationToken);
        await transport.CloseAsync(end.Action == CloseAction.Resume ? ResumableCloseStatus : NormalCloseStatus, "reconnecting", CancellationToken.None);
        await connectionCts.CancelAsync();
        await Quietly(receiving);
        await Quietly(connection.Heartbeating);
        return end;
    }

    /// <summary>
    /// Sends the normal close and waits (up to <see cref="CloseHandshakeTimeout"/>) for Discord's answering close frame,
    /// which ends the receive loop. RFC 6455 §7.1.1: the endpoint that sent its Close waits for the peer's, and the
    /// server closes the TCP connection first. Letting the socket go at once resets it when data is still unread on
    /// our side (heartbeat ACKs, dispatches in flight), and a reset can discard our Close before Discord has read it:
    /// the session then stays open, and the bot shows online, until Discord times it out.
    /// </summary>
    private async Task CloseForShutdownAsync(Connection connection, Task receiving)
    {
        using var answer = new CancellationTokenSource(CloseHandshakeTimeout, _time);
        try
        {
            // Under the send lock, so no heartbeat or command goes out after the close frame (RFC 6455 §5.5.1); a send
            // stuck on a peer that stopped reading does not hold the shutdown up.
            await connection.SendLock.WaitAsync(answer.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            connection.Closing = true;
            await connection.Transport.CloseAsync(NormalCloseStatus, "shutting down", CancellationToken.None);
        }
        finally
        {
            connection.SendLock.Release();
        }

        await Quietly(receiving.WaitAsync(answer.Token));
    }

    /// <summary>
    /// Decides what follows a connection and starts the wait before the socket is let go, so the reconnect
    /// time is fixed by the moment the connection ended, not by how long closing it took.
    /// </summary>
    private ConnectionEnd Plan(ConnectionEnd end, bool reachedReady, CancellationToken cancellationToken)
    {
        _failedAttempts = reachedReady ? 0 : _failedAttempts + 1;
        if (end.Action == CloseAction.Fatal)
        {
            _status.SetNotReady(ShardId, $"stopped: {GatewayCloseCodes.Describe(end.CloseStatus)}");
            return end;
        }

        if (end.Action == CloseAction.Reidentify || (_sessionId is not null && _failedAttempts >= MaxFailedResumes))
        {
            _sessionId = null;
            _resumeUrl = null;
            Interlocked.Exchange(ref _sequence, -1);
        }

        var delay = end.Delay ?? _reconnect.GetDelay(_failedAttempts);
        var mode = _sessionId is null ? "identify" : "resume";
        _status.SetNotReady(ShardId, $"reconnecting ({end.Reason})");
        _logger.LogWarning("Shard {ShardId}: reconnecting to {Mode} in {Delay} ({Reason})", ShardId, mode, delay, end.Reason);
        _metrics.Reconnecting(ShardId, mode);
        return end with { ReconnectWait = delay > TimeSpan.Zero ? Task.Delay(delay, _time, cancellationToken) : Task.CompletedTask };
    }

    private async Task ReceiveLoopAsync(Connection connection, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var message = await connection.Transport.ReceiveAsync(cancellationToken);
                if (message.IsClose)
                {
                    connection.End(new ConnectionEnd(
                        GatewayCloseCodes.Classify(message.CloseStatus),
                        $"closed by Discord: {GatewayCloseCodes.Describe(message.CloseStatus)}",
                        message.CloseStatus));
                    return;
                }

                if (connection.Closing)
                {
                    // Our close frame is out: what Discord sent before it read it belongs to a session that is ending.
                    continue;
                }

                if (await HandlePayloadAsync(connection, message.Text!, cancellationToken) is { } end)
                {
                    connection.End(end);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            connection.End(new ConnectionEnd(CloseAction.Resume, $"connection lost: {ex.Message}"));
        }
    }

    /// <summary>Handles one payload; returns how the connection ends when the payload ends it.</summary>
    private async Task<ConnectionEnd?> HandlePayloadAsync(Connection connection, string text, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.Deserialize(text, Json.GatewayPayload) ?? throw new JsonException("The payload was null.");
        var data = payload.D;
        switch (payload.Op)
        {
            case OpHello:
                connection.HelloReceived = true;
                var interval = TimeSpan.FromMilliseconds(GatewayEventParser.Read(data, Json.HelloData).HeartbeatInterval);
                // Starts synchronously up to its first wait, so the heartbeat schedule exists before IDENTIFY goes out.
                connection.Heartbeating = HeartbeatLoopAsync(connection, interval, cancellationToken);
                if (connection.Resuming)
                {
                    await SendAsync(connection, ResumePayload(), heartbeat: false, cancellationToken);
                }
                else
                {
                    await SendAsync(connection, IdentifyPayload(), heartbeat: false, cancellationToken);
                    _identifyGate.IdentifySent(ShardId);
                }

                return null;

            case OpHeartbeatAck:
                connection.AwaitingAck = false;
                return null;

            case OpHeartbeat:
                // Discord may ask for a heartbeat; answer at once, without waiting for the interval.
                await SendHeartbeatAsync(connection, cancellationToken);
                return null;

            case OpDispatch:
                var eventName = payload.T ?? "";
                OnDispatch(connection, eventName, data);
                // Waits while the queue is full. The sequence moves on only once the event is queued: a connection
                // dropped during the wait resumes from the last queued event, and Discord replays this one.
                await connection.Events.WriteAsync(new RawDispatch(eventName, data.Clone()), cancellationToken);
                if (payload.S is { } sequence)
                {
                    Interlocked.Exchange(ref _sequence, sequence);
                }

                return null;

            case OpReconnect:
                return new ConnectionEnd(CloseAction.Resume, "Discord asked to reconnect (op 7)");

            case OpInvalidSession when data.ValueKind == JsonValueKind.True:
                return new ConnectionEnd(CloseAction.Resume, "session invalidated, resumable (op 9)");

            case OpInvalidSession:
                // Docs: after op 9 with d:false wait a random 1–5 seconds, then IDENTIFY a new session.
                return new ConnectionEnd(CloseAction.Reidentify, "session invalidated (op 9)", Delay: TimeSpan.FromSeconds(1 + 4 * _random()));

            default:
                return null;
        }
    }

    private void OnDispatch(Connection connection, string eventName, JsonElement data)
    {
        switch (eventName)
        {
            case "READY":
                var ready = GatewayEventParser.Read(data, Json.ReadyData);
                _sessionId = ready.SessionId;
                _resumeUrl = new Uri(ready.ResumeGatewayUrl);
                connection.ReachedReady = true;
                _live = connection;
                _status.SetReady(ShardId);
                _metrics.SessionReady(ShardId, resumed: false);
                _logger.LogInformation("Shard {ShardId}: ready as {BotUser} ({BotUserId}) in {GuildCount} guilds",
                    ShardId, ready.User.Username, ready.User.Id, ready.Guilds?.Count ?? 0);
                break;
            case "RESUMED":
                connection.ReachedReady = true;
                _live = connection;
                _status.SetReady(ShardId);
                _metrics.SessionReady(ShardId, resumed: true);
                _logger.LogInformation("Shard {ShardId}: resumed the session ({Replayed} missed events replayed)", ShardId, connection.DispatchCount);
                break;
            default:
                connection.DispatchCount++;
                break;
        }
    }

    private async Task HeartbeatLoopAsync(Connection connection, TimeSpan interval, CancellationToken cancellationToken)
    {
        try
        {
            // Docs: the first heartbeat waits heartbeat_interval * jitter (jitter in [0, 1)) so that many
            // clients reconnecting together do not heartbeat in lockstep; then one every interval.
            var due = _time.GetUtcNow() + interval * _random();
            var beat = GatewayTime.DelayUntilAsync(_time, due, cancellationToken);
            while (true)
            {
                await beat;
                if (connection.AwaitingAck)
                {
                    // Docs: no ACK between two heartbeats means a failed or "zombied" connection:
                    // close with a code other than 1000/1001 and resume.
                    connection.End(new ConnectionEnd(CloseAction.Resume, "no heartbeat ACK since the last heartbeat (zombie connection)"));
                    return;
                }

                // The next beat is scheduled before this one goes out, so a slow send never shifts the cadence.
                due += interval;
                beat = GatewayTime.DelayUntilAsync(_time, due, cancellationToken);
                await SendHeartbeatAsync(connection, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            connection.End(new ConnectionEnd(CloseAction.Resume, $"heartbeat failed: {ex.Message}"));
        }
    }

    private Task SendHeartbeatAsync(Connection connection, CancellationToken cancellationToken)
    {
        connection.AwaitingAck = true;
        var sequence = Interlocked.Read(ref _sequence);
        var payload = JsonSerializer.Serialize(new GatewayCommand<long?>(OpHeartbeat, sequence < 0 ? null : sequence), Json.GatewayCommandNullableInt64);
        return SendAsync(connection, payload, heartbeat: true, cancellationToken);
    }

    private static async Task SendAsync(Connection connection, string payload, bool heartbeat, CancellationToken cancellationToken)
    {
        await connection.Limiter.WaitAsync(heartbeat, cancellationToken);
        // The receive loop and the heartbeat loop both send; a WebSocket takes one send at a time.
        await connection.SendLock.WaitAsync(cancellationToken);
        try
        {
            if (connection.Closing)
            {
                return;
            }

            await connection.Transport.SendAsync(payload, cancellationToken);
        }
        finally
        {
            connection.SendLock.Release();
        }
    }

    private string IdentifyPayload() => JsonSerializer.Serialize(
        new GatewayCommand<IdentifyData>(OpIdentify, new IdentifyData(
            _settings.Token, _settings.Properties, _settings.Intents, [_settings.ShardId, _settings.ShardCount])),
        Json.GatewayCommandIdentifyData);

    private string ResumePayload() => JsonSerializer.Serialize(
        new GatewayCommand<ResumeData>(OpResume, new ResumeData(
            _settings.Token, _sessionId!, Interlocked.Read(ref _sequence) is var seq and >= 0 ? seq : null)),
        Json.GatewayCommandResumeData);

    private async Task DispatchWorkerAsync(ChannelReader<RawDispatch> reader)
    {
        // Runs until the queue is completed and empty, also at shutdown: events already read are handed over.
        await foreach (var dispatch in reader.ReadAllAsync(CancellationToken.None))
        {
            try
            {
                await _dispatcher.DispatchAsync(ShardId, dispatch.EventName, dispatch.Data);
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Shard {ShardId}: dispatching {EventName} failed", ShardId, dispatch.EventName);
            }
        }
    }

    private static Uri WithGatewayQuery(Uri url) => new UriBuilder(url) { Query = "v=10&encoding=json" }.Uri;

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception)
        {
            // The connection is over; whatever its loops ended with is already reflected in the outcome.
        }
    }

    private sealed record RawDispatch(string EventName, JsonElement Data);

    private sealed record ConnectionEnd(CloseAction Action, string Reason, int? CloseStatus = null, TimeSpan? Delay = null)
    {
        public Task ReconnectWait { get; init; } = Task.CompletedTask;
    }

    /// <summary>State of one WebSocket connection of the session.</summary>
    private sealed class Connection(IGatewayTransport transport, GatewaySendLimiter limiter, bool resuming, ChannelWriter<RawDispatch> events)
    {
        private volatile bool _awaitingAck;
        private volatile bool _closing;

        public IGatewayTransport Transport { get; } = transport;
        public GatewaySendLimiter Limiter { get; } = limiter;
        public SemaphoreSlim SendLock { get; } = new(1, 1);
        public bool Resuming { get; } = resuming;
        public ChannelWriter<RawDispatch> Events { get; } = events;
        public TaskCompletionSource<ConnectionEnd> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Task Heartbeating { get; set; } = Task.CompletedTask;
        public bool HelloReceived { get; set; }
        public bool ReachedReady { get; set; }
        public int DispatchCount { get; set; }

        /// <summary>Our close frame is out (set under <see cref="SendLock"/>): nothing more is sent or handled.</summary>
        public bool Closing
        {
            get => _closing;
            set => _closing = value;
        }

        public bool AwaitingAck
        {
            get => _awaitingAck;
            set => _awaitingAck = value;
        }

        public void End(ConnectionEnd end) => Ended.TrySetResult(end);
    }
}
