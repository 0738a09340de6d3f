using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WalverBot.Testing.Http;

namespace WalverBot.Testing.FakeDiscord;

/// <summary>
/// Discord gateway v10 (JSON encoding) over WebSocket on 127.0.0.1, per Discord's Gateway docs:
/// HELLO, heartbeats and ACKs, IDENTIFY → READY + GUILD_CREATE, RESUME with replay, op 7/9, and
/// the close-code table. Scriptable by tests; records what the bot sent.
/// </summary>
public sealed class FakeGatewayServer : IAsyncDisposable
{
    private const string ResumePath = "/resume";

    // Gateway intents: GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT are privileged.
    private const long GuildMembersIntent = 1L << 1;
    private const long GuildPresencesIntent = 1L << 8;
    private const long MessageContentIntent = 1L << 15;
    private const long KnownIntents = (1L << 26) - 1;

    // What FakeDiscordServer's /gateway/bot reports as max_concurrency: one IDENTIFY per bucket every 5 s.
    private const int MaxConcurrency = 1;
    private static readonly TimeSpan IdentifySpacing = TimeSpan.FromSeconds(5);

    // Discord: app-sent payloads may not exceed 4096 bytes (close 4002).
    private const int MaxClientPayloadBytes = 4096;

    private readonly FakeDiscordServer _discord;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _dispatchGate = new(1, 1);
    private readonly FakeSignal _signal = new();
    private readonly List<Connection> _connections = [];
    private readonly Dictionary<string, Session> _sessions = [];
    private readonly List<FakeGatewayIdentify> _identifies = [];
    private readonly List<FakeGatewayResume> _resumes = [];
    private readonly List<FakeGatewayHeartbeat> _heartbeats = [];
    private readonly List<FakeGatewayMemberRequest> _memberRequests = [];
    private readonly Dictionary<int, DateTimeOffset> _lastSessionStart = [];
    private readonly CancellationTokenSource _stopping = new();

    private WebApplication? _app;
    private volatile bool _withholdAcks;
    private int _readyCount;
    private int _resumedCount;
    private int _identifiesRefused;

    private FakeGatewayServer(FakeDiscordServer discord, FakeGatewayOptions options)
    {
        _discord = discord;
        Options = options;
        _time = options.TimeProvider ?? discord.Options.TimeProvider;
    }

    public FakeGatewayOptions Options { get; }

    /// <summary>e.g. ws://127.0.0.1:PORT/ — what /gateway/bot returns; the bot appends ?v=10&amp;encoding=json.</summary>
    public string Url { get; private set; } = "";

    /// <summary>resume_gateway_url sent in READY: a distinct path of this server, so tests can tell a RESUME used it.</summary>
    public string ResumeUrl { get; private set; } = "";

    /// <summary>Starts the gateway and attaches it to <paramref name="discord"/> so GET /gateway/bot returns its URL.</summary>
    public static async Task<FakeGatewayServer> StartAsync(FakeDiscordServer discord, FakeGatewayOptions? options = null)
    {
        var server = new FakeGatewayServer(discord, options ?? new FakeGatewayOptions());
        var (app, baseAddress) = await FakeLoopbackHost.StartAsync(a =>
        {
            a.UseWebSockets();
            a.Run(server.AcceptAsync);
        }).ConfigureAwait(false);
        server._app = app;
        var ws = "ws://" + baseAddress.Authority;
        server.Url = ws + "/";
        server.ResumeUrl = ws + ResumePath;
        discord.AttachGateway(ws);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var connection in Open())
        {
            connection.Abort();
        }

        if (_app is not null)
        {
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    // ---- Scripting -----------------------------------------------------------------------------

    /// <summary>Stops answering heartbeats with op 11 (a zombie connection, as the bot sees it).</summary>
    public void WithholdAcks(bool withhold) => _withholdAcks = withhold;

    /// <summary>Kills every open connection without a close frame. Sessions stay resumable.</summary>
    public void DropConnection()
    {
        foreach (var connection in Open())
        {
            connection.Abort();
        }
    }

    /// <summary>
    /// Turns every open connection into a zombie, as a network partition would: the connection stays open but
    /// nothing reaches the bot any more (no ACKs, no dispatches, no close). What the bot sends is still recorded,
    /// and dispatches meanwhile are numbered and buffered, so a RESUME replays them. New connections are not affected.
    /// </summary>
    public void FreezeConnection()
    {
        foreach (var connection in Open())
        {
            connection.Frozen = true;
        }
    }

    /// <summary>Closes every open connection with a close code. 4007 and 4009 also end the session (a RESUME then gets op 9).</summary>
    public async Task CloseAsync(int code, string reason = "")
    {
        foreach (var connection in Open())
        {
            await CloseConnectionAsync(connection, code, reason).ConfigureAwait(false);
        }
    }

    /// <summary>Sends op 7 Reconnect: the bot should reconnect and resume.</summary>
    public Task SendReconnectAsync() => SendToAllAsync(new JsonObject { ["op"] = 7, ["d"] = null });

    /// <summary>Sends op 9 Invalid Session; when not resumable the session is gone and only IDENTIFY works.</summary>
    public Task SendInvalidSessionAsync(bool resumable)
    {
        if (!resumable)
        {
            ExpireSessions();
        }

        return SendToAllAsync(new JsonObject { ["op"] = 9, ["d"] = resumable });
    }

    /// <summary>Sends op 1 from the server: the bot must heartbeat immediately.</summary>
    public Task RequestHeartbeatAsync() => SendToAllAsync(new JsonObject { ["op"] = 1, ["d"] = null });

    /// <summary>Ends every session: a later RESUME gets op 9 d:false.</summary>
    public void ExpireSessions()
    {
        lock (_gate)
        {
            foreach (var session in _sessions.Values)
            {
                session.Invalid = true;
            }
        }
    }

    /// <summary>Dispatches an event (op 0) to every live session with its next sequence number; it is buffered for RESUME replay while the bot is disconnected. Returns the last sequence used.</summary>
    public Task<long> DispatchAsync(string eventName, JsonNode data) => DispatchCoreAsync(eventName, data, fragments: 1);

    public Task<long> DispatchAsync(string eventName, string json) =>
        DispatchAsync(eventName, JsonNode.Parse(json) ?? throw new ArgumentException("null JSON", nameof(json)));

    /// <summary>Dispatches an event whose JSON is split over several WebSocket frames (continuation frames), as Discord does for large payloads.</summary>
    public Task<long> SendLargePayloadInFragmentsAsync(string eventName, JsonNode data, int fragments = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fragments, 2);
        return DispatchCoreAsync(eventName, data, fragments);
    }

    // ---- Inspection ----------------------------------------------------------------------------

    public IReadOnlyList<FakeGatewayIdentify> Identifies
    {
        get { lock (_gate) { return [.. _identifies]; } }
    }

    public IReadOnlyList<FakeGatewayResume> Resumes
    {
        get { lock (_gate) { return [.. _resumes]; } }
    }

    public IReadOnlyList<FakeGatewayHeartbeat> Heartbeats
    {
        get { lock (_gate) { return [.. _heartbeats]; } }
    }

    /// <summary>Request Guild Members (op 8) payloads the bot sent on an identified session, oldest first.</summary>
    public IReadOnlyList<FakeGatewayMemberRequest> MemberRequests
    {
        get { lock (_gate) { return [.. _memberRequests]; } }
    }

    public Task WaitForMemberRequestsAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(g => g.MemberRequests.Count >= count, timeout, $"{count} Request Guild Members");

    public IReadOnlyList<FakeGatewayConnectionInfo> Connections
    {
        get { lock (_gate) { return [.. _connections.Select(c => c.Info())]; } }
    }

    public int ConnectionCount
    {
        get { lock (_gate) { return _connections.Count; } }
    }

    /// <summary>READY events sent (new sessions).</summary>
    public int ReadyCount => Volatile.Read(ref _readyCount);

    /// <summary>RESUMED events sent (successful resumes).</summary>
    public int ResumedCount => Volatile.Read(ref _resumedCount);

    /// <summary>IDENTIFYs answered with op 9 because they came within 5 s of the previous session start (max_concurrency 1).</summary>
    public int IdentifiesRefused => Volatile.Read(ref _identifiesRefused);

    /// <summary>Session ids handed out in READY, oldest first.</summary>
    public IReadOnlyList<string> SessionIds
    {
        get { lock (_gate) { return [.. _sessions.Values.OrderBy(s => s.Created).Select(s => s.Id)]; } }
    }

    public async Task<FakeGatewayIdentify> WaitForIdentifyAsync(int count = 1, TimeSpan? timeout = null)
    {
        await WaitUntilAsync(g => g.Identifies.Count >= count, timeout, $"{count} IDENTIFY").ConfigureAwait(false);
        return Identifies[count - 1];
    }

    public async Task<FakeGatewayResume> WaitForResumeAsync(int count = 1, TimeSpan? timeout = null)
    {
        await WaitUntilAsync(g => g.Resumes.Count >= count, timeout, $"{count} RESUME").ConfigureAwait(false);
        return Resumes[count - 1];
    }

    public Task WaitForHeartbeatsAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(g => g.Heartbeats.Count >= count, timeout, $"{count} heartbeats");

    public Task WaitForConnectionsAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(g => g.ConnectionCount >= count, timeout, $"{count} connections");

    /// <summary>Waits until <paramref name="count"/> READY events have been sent (the session is usable after it).</summary>
    public Task WaitForReadyAsync(int count = 1, TimeSpan? timeout = null) =>
        WaitUntilAsync(g => g.ReadyCount >= count, timeout, $"{count} READY");

    public Task WaitForResumedAsync(int count = 1, TimeSpan? timeout = null) =>
        WaitUntilAsync(g => g.ResumedCount >= count, timeout, $"{count} RESUMED");

    /// <summary>Waits until the given connection (1-based id) has ended, and returns how.</summary>
    public async Task<FakeGatewayConnectionInfo> WaitForConnectionClosedAsync(int connectionId, TimeSpan? timeout = null)
    {
        await WaitUntilAsync(g => g.Connections.Any(c => c.Id == connectionId && !c.Open), timeout, $"connection {connectionId} to close").ConfigureAwait(false);
        return Connections.Single(c => c.Id == connectionId);
    }

    public Task WaitUntilAsync(Func<FakeGatewayServer, bool> condition, TimeSpan? timeout = null, string description = "a gateway condition") =>
        _signal.WaitUntilAsync(() => condition(this), timeout ?? TimeSpan.FromSeconds(10), description);

    // ---- Connection handling -------------------------------------------------------------------

    private async Task AcceptAsync(HttpContext context)
    {
        var path = context.Request.Path.Value?.TrimEnd('/') ?? "";
        if (path is not ("" or ResumePath) || !context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        Connection connection;
        lock (_gate)
        {
            connection = new Connection(_connections.Count + 1, socket, context, path.Length == 0 ? "/" : path, context.Request.QueryString.Value ?? "");
            _connections.Add(connection);
        }

        _signal.Pulse();
        try
        {
            await RunAsync(connection).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            connection.Aborted = true;
        }
        finally
        {
            lock (_gate)
            {
                connection.MarkEnded();
                if (connection.Session?.Connection == connection)
                {
                    connection.Session.Connection = null;
                }
            }

            _signal.Pulse();
        }
    }

    private async Task RunAsync(Connection connection)
    {
        var query = connection.Http.Request.Query;
        if (query["v"] != "10")
        {
            await CloseConnectionAsync(connection, 4012, "Invalid API version").ConfigureAwait(false);
        }
        else if (query.ContainsKey("compress") || (query.ContainsKey("encoding") && query["encoding"] != "json"))
        {
            // The fake speaks uncompressed JSON only; anything else would be misread.
            await CloseConnectionAsync(connection, 4002, "Fake gateway supports encoding=json without compression only").ConfigureAwait(false);
        }
        else
        {
            await SendAsync(connection, new JsonObject { ["op"] = 10, ["d"] = new JsonObject { ["heartbeat_interval"] = Options.HeartbeatIntervalMs } }).ConfigureAwait(false);
        }

        var buffer = new byte[8192];
        while (connection.Socket.State is WebSocketState.Open or WebSocketState.CloseSent)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await connection.Socket.ReceiveAsync(buffer, _stopping.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await OnClientCloseAsync(connection, (int?)result.CloseStatus, result.CloseStatusDescription).ConfigureAwait(false);
                    return;
                }

                message.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);

            if (connection.ServerCloseCode is not null)
            {
                continue; // Closing: ignore what arrives until the client's close frame.
            }

            if (message.Length > MaxClientPayloadBytes || result.MessageType != WebSocketMessageType.Text)
            {
                await CloseConnectionAsync(connection, 4002, "Error while decoding payload.").ConfigureAwait(false);
                continue;
            }

            await OnPayloadAsync(connection, message.ToArray(), _time.GetUtcNow()).ConfigureAwait(false);
        }
    }

    private async Task OnClientCloseAsync(Connection connection, int? code, string? reason)
    {
        lock (_gate)
        {
            connection.ClientCloseCode = code;
            // Discord: closing with 1000 or 1001 invalidates the session.
            if (code is 1000 or 1001 && connection.Session is { } session)
            {
                session.Invalid = true;
            }
        }

        await connection.SendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (connection.ServerCloseCode is null && !connection.Frozen && connection.Socket.State == WebSocketState.CloseReceived)
            {
                await connection.Socket.CloseOutputAsync((WebSocketCloseStatus)(code ?? 1000), reason, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            connection.SendLock.Release();
        }
    }

    /// <param name="receivedAt">When the payload arrived: timing rules (identify spacing) count from there, not from when it was handled.</param>
    private async Task OnPayloadAsync(Connection connection, byte[] bytes, DateTimeOffset receivedAt)
    {
        JsonObject? payload;
        try
        {
            payload = JsonNode.Parse(bytes) as JsonObject;
        }
        catch (JsonException)
        {
            payload = null;
        }

        if (payload?["op"] is not JsonValue opValue || !opValue.TryGetValue(out int op))
        {
            await CloseConnectionAsync(connection, 4002, "Error while decoding payload.").ConfigureAwait(false);
            return;
        }

        if (!connection.CountSend(_time.GetUtcNow(), Options.MaxPayloadsPerMinute))
        {
            await CloseConnectionAsync(connection, 4008, "Rate limited.").ConfigureAwait(false);
            return;
        }

        switch (op)
        {
            case 1:
                await OnHeartbeatAsync(connection, payload["d"]).ConfigureAwait(false);
                break;
            case 2:
                await OnIdentifyAsync(connection, payload["d"] as JsonObject, receivedAt).ConfigureAwait(false);
                break;
            case 6:
                await OnResumeAsync(connection, payload["d"] as JsonObject).ConfigureAwait(false);
                break;
            case 8 when connection.Session is not null:
                await OnRequestGuildMembersAsync(connection, payload["d"] as JsonObject).ConfigureAwait(false);
                break;
            case 3 or 4 or 8 or 31:
                if (connection.Session is null)
                {
                    await CloseConnectionAsync(connection, 4003, "Not authenticated.").ConfigureAwait(false);
                }

                break;
            default:
                await CloseConnectionAsync(connection, 4001, "Unknown opcode.").ConfigureAwait(false);
                break;
        }
    }

    private async Task OnHeartbeatAsync(Connection connection, JsonNode? d)
    {
        long? sequence = d is JsonValue value && value.TryGetValue(out long s) ? s : null;
        lock (_gate)
        {
            _heartbeats.Add(new FakeGatewayHeartbeat(connection.Id, sequence, _time.GetUtcNow()));
        }

        _signal.Pulse();
        if (!_withholdAcks)
        {
            await SendAsync(connection, new JsonObject { ["op"] = 11, ["d"] = null }).ConfigureAwait(false);
        }
    }

    private static bool OnShard(string guildId, JsonArray shard) =>
        (int)((ulong.Parse(guildId, System.Globalization.CultureInfo.InvariantCulture) >> 22) % (ulong)shard[1]!.GetValue<int>()) == shard[0]!.GetValue<int>();

    private async Task OnIdentifyAsync(Connection connection, JsonObject? d, DateTimeOffset receivedAt)
    {
        if (d is not null)
        {
            lock (_gate)
            {
                _identifies.Add(new FakeGatewayIdentify(connection.Id, connection.Path, (JsonObject)d.DeepClone(), receivedAt));
            }

            _signal.Pulse();
        }

        var (code, reason) = ValidateIdentify(connection, d);
        if (code != 0)
        {
            await CloseConnectionAsync(connection, code, reason).ConfigureAwait(false);
            return;
        }

        var shard = d!["shard"] as JsonArray ?? [0, 1];
        var largeThreshold = d["large_threshold"]?.GetValue<int>() ?? 50;

        // Docs (gateway#identifying, #session-start-limit-object): max_concurrency IDENTIFYs per 5 seconds per
        // rate-limit key (shard_id % max_concurrency); "if your app exceeds this limit, Discord will respond with
        // an Invalid Session (opcode 9)".
        var now = receivedAt;
        var bucket = shard[0]!.GetValue<int>() % MaxConcurrency;
        bool tooSoon;
        lock (_gate)
        {
            tooSoon = _lastSessionStart.TryGetValue(bucket, out var last) && now - last < IdentifySpacing;
            if (!tooSoon)
            {
                _lastSessionStart[bucket] = now;
            }
        }

        if (tooSoon)
        {
            Interlocked.Increment(ref _identifiesRefused);
            await SendAsync(connection, new JsonObject { ["op"] = 9, ["d"] = false }).ConfigureAwait(false);
            _signal.Pulse();
            return;
        }

        // Docs (gateway#identifying): past the daily session start limit "all active sessions for the app will be
        // terminated, the bot token will be reset"; from then on the old token fails with 4004.
        if (!_discord.TryUseSessionStart())
        {
            await CloseConnectionAsync(connection, 4004, "Authentication failed.").ConfigureAwait(false);
            return;
        }

        await _dispatchGate.WaitAsync(_stopping.Token).ConfigureAwait(false);
        try
        {
            var session = new Session(Guid.NewGuid().ToString("N"), _time.GetUtcNow()) { Shard = (JsonArray)shard.DeepClone() };
            lock (_gate)
            {
                _sessions[session.Id] = session;
                session.Connection = connection;
                connection.Session = session;
            }

            // Docs (topics/gateway#sharding): a shard receives only the guilds with (guild_id >> 22) % num_shards == shard_id.
            var guildIds = _discord.GuildIds().Where(id => OnShard(id, shard)).ToList();
            var ready = new JsonObject
            {
                ["v"] = 10,
                ["user"] = _discord.BotUserJson(),
                ["guilds"] = new JsonArray([.. guildIds.Select(id => (JsonNode)new JsonObject { ["id"] = id, ["unavailable"] = true })]),
                ["session_id"] = session.Id,
                ["resume_gateway_url"] = ResumeUrl,
                ["shard"] = shard.DeepClone(),
                ["application"] = new JsonObject
                {
                    ["id"] = _discord.ApplicationId,
                    // GATEWAY_GUILD_MEMBERS (1 << 14) or GATEWAY_GUILD_MEMBERS_LIMITED (1 << 15).
                    ["flags"] = Options.GuildMembersIntentEnabled ? 1 << 14 : 1 << 15,
                },
                ["private_channels"] = new JsonArray(),
                ["presences"] = new JsonArray(),
                ["relationships"] = new JsonArray(),
            };
            await DispatchToSessionAsync(session, "READY", ready, 1).ConfigureAwait(false);
            Interlocked.Increment(ref _readyCount);
            _signal.Pulse();

            foreach (var guildId in guildIds)
            {
                await DispatchToSessionAsync(session, "GUILD_CREATE", _discord.GuildCreateJson(guildId, largeThreshold, _time.GetUtcNow()), 1).ConfigureAwait(false);
            }
        }
        finally
        {
            _dispatchGate.Release();
        }
    }

    /// <summary>IDENTIFY checks, each answered with its close code from Discord's table.</summary>
    private (int Code, string Reason) ValidateIdentify(Connection connection, JsonObject? d)
    {
        if (connection.Session is not null)
        {
            return (4005, "Already authenticated.");
        }

        if (d is null || d["token"] is not JsonValue tokenValue || !tokenValue.TryGetValue(out string? _))
        {
            return (4002, "Error while decoding payload.");
        }

        if (tokenValue.GetValue<string>() != _discord.Token)
        {
            return (4004, "Authentication failed.");
        }

        if (d["properties"] is not JsonObject properties
            || !new[] { "os", "browser", "device" }.All(p => properties[p] is JsonValue v && v.TryGetValue(out string? _)))
        {
            return (4002, "Error while decoding payload.");
        }

        if (d["shard"] is not null)
        {
            if (d["shard"] is not JsonArray { Count: 2 } shard
                || !shard[0]!.AsValue().TryGetValue(out int id) || !shard[1]!.AsValue().TryGetValue(out int count)
                || count < 1 || id < 0 || id >= count)
            {
                return (4010, "Invalid shard.");
            }

            if (Options.ShardingRequired && count == 1)
            {
                return (4011, "Sharding required.");
            }
        }
        else if (Options.ShardingRequired)
        {
            return (4011, "Sharding required.");
        }

        if (d["intents"] is not JsonValue intentsValue || !intentsValue.TryGetValue(out long intents) || intents < 0 || (intents & ~KnownIntents) != 0)
        {
            return (4013, "Invalid intent(s).");
        }

        var disallowed = ((intents & GuildMembersIntent) != 0 && !Options.GuildMembersIntentEnabled)
            || ((intents & GuildPresencesIntent) != 0 && !Options.PresenceIntentEnabled)
            || ((intents & MessageContentIntent) != 0 && !Options.MessageContentIntentEnabled);
        return disallowed ? (4014, "Disallowed intent(s).") : (0, "");
    }

    /// <summary>
    /// Request Guild Members (docs: events/gateway-events#request-guild-members): one guild per request, "query" is a
    /// case-insensitive prefix of the username (nicknames are not searched) with at most 100 members for a prefix,
    /// or "user_ids" (one snowflake or an array) limited to 100 members. Answered with GUILD_MEMBERS_CHUNK dispatches
    /// of up to 1000 members each, carrying guild_id, members, chunk_index, chunk_count, not_found (for user_ids) and
    /// the request's nonce (when it is a string of at most 32 bytes). A guild that is not on the session's shard gets no answer.
    /// </summary>
    private async Task OnRequestGuildMembersAsync(Connection connection, JsonObject? d)
    {
        if (d is not null)
        {
            lock (_gate)
            {
                _memberRequests.Add(new FakeGatewayMemberRequest(connection.Id, (JsonObject)d.DeepClone(), _time.GetUtcNow()));
            }

            _signal.Pulse();
        }

        var guildId = d?["guild_id"] is JsonValue g && g.TryGetValue(out string? gid) ? gid : null;
        var hasQuery = d?["query"] is JsonValue q && q.TryGetValue(out string? _);
        var hasIds = d?["user_ids"] is JsonArray or JsonValue;
        var hasLimit = d?["limit"] is JsonValue l && l.TryGetValue(out int _);
        if (d is null || guildId is null || hasQuery == hasIds || (hasQuery && !hasLimit))
        {
            await CloseConnectionAsync(connection, 4002, "Error while decoding payload.").ConfigureAwait(false);
            return;
        }

        var session = connection.Session!;
        var members = _discord.MembersOf(guildId);
        if (members is null || session.Shard is not { } shard || !OnShard(guildId, shard))
        {
            return;
        }

        List<FakeMember> found;
        List<string> notFound = [];
        if (hasQuery)
        {
            var query = d["query"]!.GetValue<string>();
            var limit = d["limit"]!.GetValue<int>();
            // limit 0 with an empty query is "all members"; a prefix returns at most 100.
            var max = limit == 0 ? (query.Length == 0 ? int.MaxValue : 100) : limit;
            max = query.Length == 0 ? max : Math.Min(max, 100);
            found = [.. members.Where(m => m.Username.StartsWith(query, StringComparison.OrdinalIgnoreCase)).Take(max)];
        }
        else
        {
            IEnumerable<string> ids = d["user_ids"] is JsonArray array ? array.Select(id => id!.GetValue<string>()) : [d["user_ids"]!.GetValue<string>()];
            var wanted = ids.Distinct().Take(100).ToList();
            found = [.. wanted.Select(id => members.FirstOrDefault(m => m.UserId == id)).OfType<FakeMember>()];
            notFound = [.. wanted.Where(id => found.All(m => m.UserId != id))];
        }

        var nonce = d["nonce"] is JsonValue n && n.TryGetValue(out string? text) && Encoding.UTF8.GetByteCount(text) <= 32 ? text : null;
        var chunks = found.Chunk(1000).ToList();
        if (chunks.Count == 0)
        {
            chunks.Add([]);
        }

        await _dispatchGate.WaitAsync(_stopping.Token).ConfigureAwait(false);
        try
        {
            for (var i = 0; i < chunks.Count; i++)
            {
                var chunk = new JsonObject
                {
                    ["guild_id"] = guildId,
                    ["members"] = new JsonArray([.. chunks[i].Select(m => (JsonNode)FakeDiscordJson.Member(m))]),
                    ["chunk_index"] = i,
                    ["chunk_count"] = chunks.Count,
                };
                if (hasIds && i == 0)
                {
                    chunk["not_found"] = new JsonArray([.. notFound.Select(id => (JsonNode)JsonValue.Create(id))]);
                }

                if (nonce is not null)
                {
                    chunk["nonce"] = nonce;
                }

                await DispatchToSessionAsync(session, "GUILD_MEMBERS_CHUNK", chunk, 1).ConfigureAwait(false);
            }
        }
        finally
        {
            _dispatchGate.Release();
        }
    }

    private async Task OnResumeAsync(Connection connection, JsonObject? d)
    {
        var token = d?["token"] is JsonValue t && t.TryGetValue(out string? tokenText) ? tokenText : null;
        var sessionId = d?["session_id"] is JsonValue s && s.TryGetValue(out string? id) ? id : null;
        long? seq = d?["seq"] is JsonValue q && q.TryGetValue(out long sequence) ? sequence : null;
        lock (_gate)
        {
            _resumes.Add(new FakeGatewayResume(connection.Id, connection.Path, token, sessionId, seq, _time.GetUtcNow()));
        }

        _signal.Pulse();

        if (connection.Session is not null)
        {
            await CloseConnectionAsync(connection, 4005, "Already authenticated.").ConfigureAwait(false);
            return;
        }

        if (d is null || token is null || sessionId is null)
        {
            await CloseConnectionAsync(connection, 4002, "Error while decoding payload.").ConfigureAwait(false);
            return;
        }

        if (token != _discord.Token)
        {
            await CloseConnectionAsync(connection, 4004, "Authentication failed.").ConfigureAwait(false);
            return;
        }

        await _dispatchGate.WaitAsync(_stopping.Token).ConfigureAwait(false);
        try
        {
            Session? session;
            Connection? previous = null;
            lock (_gate)
            {
                session = _sessions.GetValueOrDefault(sessionId);
                if (session is { Invalid: false } && (seq ?? 0) <= session.Sequence)
                {
                    previous = session.Connection;
                    session.Connection = connection;
                    connection.Session = session;
                }
            }

            if (session is null || session.Invalid)
            {
                await SendAsync(connection, new JsonObject { ["op"] = 9, ["d"] = false }).ConfigureAwait(false);
                return;
            }

            if ((seq ?? 0) > session.Sequence)
            {
                lock (_gate)
                {
                    session.Invalid = true;
                }

                await CloseConnectionAsync(connection, 4007, "Invalid seq.").ConfigureAwait(false);
                return;
            }

            previous?.Abort();
            List<(long Seq, string Name, JsonNode Data)> missed;
            lock (_gate)
            {
                missed = [.. session.Events.Where(e => e.Seq > (seq ?? 0))];
            }

            foreach (var (eventSeq, name, data) in missed)
            {
                await SendAsync(connection, DispatchPayload(name, data, eventSeq)).ConfigureAwait(false);
            }

            await DispatchToSessionAsync(session, "RESUMED", new JsonObject(), 1).ConfigureAwait(false);
            Interlocked.Increment(ref _resumedCount);
        }
        finally
        {
            _dispatchGate.Release();
            _signal.Pulse();
        }
    }

    // ---- Sending -------------------------------------------------------------------------------

    private async Task<long> DispatchCoreAsync(string eventName, JsonNode data, int fragments)
    {
        await _dispatchGate.WaitAsync(_stopping.Token).ConfigureAwait(false);
        try
        {
            List<Session> live;
            lock (_gate)
            {
                live = [.. _sessions.Values.Where(s => !s.Invalid)];
            }

            long last = 0;
            foreach (var session in live)
            {
                last = await DispatchToSessionAsync(session, eventName, data.DeepClone(), fragments).ConfigureAwait(false);
            }

            return last;
        }
        finally
        {
            _dispatchGate.Release();
        }
    }

    /// <summary>Numbers, buffers and (if connected) sends one dispatch. Callers hold the dispatch gate so sequence order is wire order.</summary>
    private async Task<long> DispatchToSessionAsync(Session session, string eventName, JsonNode data, int fragments)
    {
        Connection? connection;
        long seq;
        lock (_gate)
        {
            seq = ++session.Sequence;
            session.Events.Add((seq, eventName, data));
            connection = session.Connection;
        }

        if (connection is not null)
        {
            await SendAsync(connection, DispatchPayload(eventName, data, seq), fragments).ConfigureAwait(false);
        }

        return seq;
    }

    private static JsonObject DispatchPayload(string eventName, JsonNode data, long seq) =>
        new() { ["op"] = 0, ["d"] = data.DeepClone(), ["s"] = seq, ["t"] = eventName };

    private async Task SendToAllAsync(JsonObject payload)
    {
        foreach (var connection in Open())
        {
            await SendAsync(connection, (JsonObject)payload.DeepClone()).ConfigureAwait(false);
        }
    }

    private static async Task SendAsync(Connection connection, JsonObject payload, int fragments = 1)
    {
        if (payload["op"]?.GetValue<int>() != 0)
        {
            payload["s"] = null;
            payload["t"] = null;
        }

        var bytes = Encoding.UTF8.GetBytes(payload.ToJsonString());
        await connection.SendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (connection.Socket.State != WebSocketState.Open || connection.ServerCloseCode is not null || connection.Frozen)
            {
                return;
            }

            var size = (int)Math.Ceiling(bytes.Length / (double)fragments);
            for (var offset = 0; offset < bytes.Length; offset += size)
            {
                var count = Math.Min(size, bytes.Length - offset);
                await connection.Socket.SendAsync(bytes.AsMemory(offset, count), WebSocketMessageType.Text, offset + count >= bytes.Length, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or IOException or OperationCanceledException)
        {
            // The bot went away; the connection's own loop records that.
        }
        finally
        {
            connection.SendLock.Release();
        }
    }

    private async Task CloseConnectionAsync(Connection connection, int code, string reason)
    {
        await connection.SendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            lock (_gate)
            {
                if (connection.ServerCloseCode is not null)
                {
                    return;
                }

                connection.ServerCloseCode = code;
                if (code is 4007 or 4009 && connection.Session is { } session)
                {
                    session.Invalid = true;
                }
            }

            if (connection.Socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await connection.Socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or IOException)
        {
        }
        finally
        {
            connection.SendLock.Release();
        }

        _signal.Pulse();

        // A client that never answers the close frame is cut off, as a server would.
        _ = Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => connection.Abort(), TaskScheduler.Default);
    }

    private List<Connection> Open()
    {
        lock (_gate)
        {
            return [.. _connections.Where(c => c.Open)];
        }
    }

    private sealed class Session(string id, DateTimeOffset created)
    {
        public string Id { get; } = id;

        public DateTimeOffset Created { get; } = created;

        public long Sequence { get; set; }

        public List<(long Seq, string Name, JsonNode Data)> Events { get; } = [];

        public Connection? Connection { get; set; }

        public bool Invalid { get; set; }

        /// <summary>[shard_id, num_shards] from the IDENTIFY that started the session.</summary>
        public JsonArray? Shard { get; init; }
    }

    private sealed class Connection(int id, WebSocket socket, HttpContext http, string path, string query)
    {
        private readonly Queue<DateTimeOffset> _recent = new();
        private readonly Lock _life = new();

        public int Id { get; } = id;

        public WebSocket Socket { get; } = socket;

        public HttpContext Http { get; } = http;

        public string Path { get; } = path;

        public SemaphoreSlim SendLock { get; } = new(1, 1);

        public Session? Session { get; set; }

        public bool Open { get; private set; } = true;

        public int? ServerCloseCode { get; set; }

        public int? ClientCloseCode { get; set; }

        public bool Aborted { get; set; }

        private volatile bool _frozen;

        /// <summary>A zombie: nothing more is sent on this connection.</summary>
        public bool Frozen
        {
            get => _frozen;
            set => _frozen = value;
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

        /// <summary>Called by the handler before it returns; after that Kestrel disposes (and may reuse) the HttpContext.</summary>
        public void MarkEnded()
        {
            lock (_life)
            {
                Open = false;
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
                Http.Abort();
            }

            Socket.Abort();
        }

        public FakeGatewayConnectionInfo Info() => new(Id, Path, query, Open, ServerCloseCode, ClientCloseCode, Aborted && ServerCloseCode is null && ClientCloseCode is null);
    }
}
