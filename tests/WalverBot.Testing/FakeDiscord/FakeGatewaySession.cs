using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WalverBot.Testing.FakeDiscord;

/// <summary>One gateway session: its id, sequence, the dispatches it was sent (for RESUME replay) and its shard.</summary>
internal sealed class FakeGatewaySession(string id, DateTimeOffset created)
{
    public string Id { get; } = id;

    public DateTimeOffset Created { get; } = created;

    public long Sequence { get; set; }

    public List<(long Seq, string Name, JsonNode Data)> Events { get; } = [];

    public FakeGatewayConnection? Connection { get; set; }

    public bool Invalid { get; set; }

    /// <summary>[shard_id, num_shards] from the IDENTIFY that started the session.</summary>
    public JsonArray? Shard { get; init; }

    /// <summary>The intents of the IDENTIFY that started the session.</summary>
    public long Intents { get; init; }

    /// <summary>When each guild's whole member list was last requested on this session (op 8, query "" and limit 0).</summary>
    public Dictionary<string, DateTimeOffset> AllMembersRequested { get; } = [];
}

/// <summary>
/// The gateway protocol, per Discord's Gateway docs: HELLO, the heartbeat deadline and ACKs, IDENTIFY (checks,
/// session start limits, sharding) → READY + GUILD_CREATE, RESUME with replay, op 8, and numbered dispatches.
/// </summary>
internal sealed class FakeGatewaySessions(FakeDiscordServer discord, FakeGatewayOptions options, TimeProvider time, FakeGatewayRecorder recorder, CancellationToken stopping)
{
    // Gateway intents: GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT are privileged.
    private const long GuildMembersIntent = 1L << 1;
    private const long GuildPresencesIntent = 1L << 8;
    private const long MessageContentIntent = 1L << 15;
    private const long KnownIntents = (1L << 26) - 1;

    // What FakeDiscordServer's /gateway/bot reports as max_concurrency: one IDENTIFY per bucket every 5 s.
    private const int MaxConcurrency = 1;
    private static readonly TimeSpan IdentifySpacing = TimeSpan.FromSeconds(5);

    private readonly FakeDiscordServer _discord = discord;
    private readonly FakeGatewayOptions _options = options;
    private readonly TimeProvider _time = time;
    private readonly FakeGatewayRecorder _recorder = recorder;
    private readonly CancellationToken _stopping = stopping;
    private readonly SemaphoreSlim _dispatchGate = new(1, 1);
    private readonly Dictionary<string, FakeGatewaySession> _sessions = [];
    private readonly Dictionary<int, DateTimeOffset> _lastSessionStart = [];
    private volatile bool _withholdAcks;

    /// <summary>resume_gateway_url sent in READY.</summary>
    public string ResumeUrl { get; set; } = "";

    public bool WithholdAcks
    {
        get => _withholdAcks;
        set => _withholdAcks = value;
    }

    public IReadOnlyList<string> SessionIds
    {
        get { lock (_recorder.Gate) { return [.. _sessions.Values.OrderBy(s => s.Created).Select(s => s.Id)]; } }
    }

    /// <summary>Ends every session: a later RESUME gets op 9 d:false.</summary>
    public void ExpireAll()
    {
        lock (_recorder.Gate)
        {
            foreach (var session in _sessions.Values)
            {
                session.Invalid = true;
            }
        }
    }

    /// <summary>Checks the query, sends HELLO, then handles payloads until the connection ends.</summary>
    public async Task RunAsync(FakeGatewayConnection connection)
    {
        var query = connection.Http.Request.Query;
        if (query["v"] != "10")
        {
            await connection.CloseAsync(4012, "Invalid API version").ConfigureAwait(false);
        }
        else if (query.ContainsKey("compress") || (query.ContainsKey("encoding") && query["encoding"] != "json"))
        {
            // The fake speaks uncompressed JSON only; anything else would be misread.
            await connection.CloseAsync(4002, "Fake gateway supports encoding=json without compression only").ConfigureAwait(false);
        }
        else
        {
            await connection.SendAsync(new JsonObject { ["op"] = 10, ["d"] = new JsonObject { ["heartbeat_interval"] = _options.HeartbeatIntervalMs } }).ConfigureAwait(false);
            ExpectHeartbeat(connection);
        }

        var buffer = new byte[8192];
        while (connection.Socket.State is WebSocketState.Open or WebSocketState.CloseSent)
        {
            if (await connection.ReceiveAsync(buffer, _stopping).ConfigureAwait(false) is not var (bytes, type))
            {
                return;
            }

            if (connection.ServerCloseCode is not null)
            {
                continue; // Closing: ignore what arrives until the client's close frame.
            }

            if (bytes.Length > FakeGatewayConnection.MaxClientPayloadBytes || type != WebSocketMessageType.Text)
            {
                await connection.CloseAsync(4002, "Error while decoding payload.").ConfigureAwait(false);
                continue;
            }

            await OnPayloadAsync(connection, bytes, _time.GetUtcNow()).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Discord (Gateway, Sending Heartbeats): the first heartbeat comes within heartbeat_interval * jitter (jitter in
    /// [0, 1)) of HELLO, then one every heartbeat_interval "until the connection is closed". A connection that misses
    /// that is closed as Discord's close-code table describes, 4009 "Session timed out" (not resumable). Discord does
    /// not publish its allowance for late heartbeats; <see cref="FakeGatewayOptions.HeartbeatAllowanceMs"/> sets it.
    /// </summary>
    private void ExpectHeartbeat(FakeGatewayConnection connection)
    {
        if (_options.HeartbeatAllowanceMs is int allowance)
        {
            connection.ExpectHeartbeatWithin(TimeSpan.FromMilliseconds(_options.HeartbeatIntervalMs + allowance));
        }
    }

    /// <param name="receivedAt">When the payload arrived: timing rules (identify spacing) count from there, not from when it was handled.</param>
    private async Task OnPayloadAsync(FakeGatewayConnection connection, byte[] bytes, DateTimeOffset receivedAt)
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
            await connection.CloseAsync(4002, "Error while decoding payload.").ConfigureAwait(false);
            return;
        }

        if (!connection.CountSend(_time.GetUtcNow(), _options.MaxPayloadsPerMinute))
        {
            await connection.CloseAsync(4008, "Rate limited.").ConfigureAwait(false);
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
            case 8 when connection.Session is not null && IsAllMembers(payload["d"] as JsonObject):
                // A whole member list can be a thousand chunks; Discord keeps reading (and acknowledging) heartbeats
                // while it sends them, so the answer must not hold up this connection's receive loop.
                _ = AnswerInBackgroundAsync(connection, (JsonObject)payload["d"]!);
                break;
            case 8 when connection.Session is not null:
                await OnRequestGuildMembersAsync(connection, payload["d"] as JsonObject).ConfigureAwait(false);
                break;
            case 3 or 4 or 8 or 31:
                if (connection.Session is null)
                {
                    await connection.CloseAsync(4003, "Not authenticated.").ConfigureAwait(false);
                }

                break;
            default:
                await connection.CloseAsync(4001, "Unknown opcode.").ConfigureAwait(false);
                break;
        }
    }

    private async Task OnHeartbeatAsync(FakeGatewayConnection connection, JsonNode? d)
    {
        long? sequence = d is JsonValue value && value.TryGetValue(out long s) ? s : null;
        _recorder.Add(new FakeGatewayHeartbeat(connection.Id, sequence, _time.GetUtcNow()));
        ExpectHeartbeat(connection);
        if (!WithholdAcks)
        {
            await connection.SendAsync(new JsonObject { ["op"] = 11, ["d"] = null }).ConfigureAwait(false);
        }
    }

    private static bool OnShard(string guildId, JsonArray shard) =>
        (int)((ulong.Parse(guildId, System.Globalization.CultureInfo.InvariantCulture) >> 22) % (ulong)shard[1]!.GetValue<int>()) == shard[0]!.GetValue<int>();

    private async Task OnIdentifyAsync(FakeGatewayConnection connection, JsonObject? d, DateTimeOffset receivedAt)
    {
        if (d is not null)
        {
            _recorder.Add(new FakeGatewayIdentify(connection.Id, connection.Path, (JsonObject)d.DeepClone(), receivedAt));
        }

        var (code, reason) = ValidateIdentify(connection, d);
        if (code != 0)
        {
            await connection.CloseAsync(code, reason).ConfigureAwait(false);
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
        lock (_recorder.Gate)
        {
            tooSoon = _lastSessionStart.TryGetValue(bucket, out var last) && now - last < IdentifySpacing;
            if (!tooSoon)
            {
                _lastSessionStart[bucket] = now;
            }
        }

        if (tooSoon)
        {
            _recorder.CountRefusedIdentify();
            await connection.SendAsync(new JsonObject { ["op"] = 9, ["d"] = false }).ConfigureAwait(false);
            _recorder.Signal.Pulse();
            return;
        }

        // Docs (gateway#identifying): past the daily session start limit "all active sessions for the app will be
        // terminated, the bot token will be reset"; from then on the old token fails with 4004.
        if (!_discord.TryUseSessionStart())
        {
            await connection.CloseAsync(4004, "Authentication failed.").ConfigureAwait(false);
            return;
        }

        await _dispatchGate.WaitAsync(_stopping).ConfigureAwait(false);
        try
        {
            var session = new FakeGatewaySession(Guid.NewGuid().ToString("N"), _time.GetUtcNow())
            {
                Shard = (JsonArray)shard.DeepClone(),
                Intents = d["intents"]!.GetValue<long>(),
            };
            lock (_recorder.Gate)
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
                    ["flags"] = _options.GuildMembersIntentEnabled ? 1 << 14 : 1 << 15,
                },
                ["private_channels"] = new JsonArray(),
                ["presences"] = new JsonArray(),
                ["relationships"] = new JsonArray(),
            };
            await DispatchToSessionAsync(session, "READY", ready, 1).ConfigureAwait(false);
            _recorder.CountReady();
            _recorder.Signal.Pulse();

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
    private (int Code, string Reason) ValidateIdentify(FakeGatewayConnection connection, JsonObject? d)
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

            if (_options.ShardingRequired && count == 1)
            {
                return (4011, "Sharding required.");
            }
        }
        else if (_options.ShardingRequired)
        {
            return (4011, "Sharding required.");
        }

        if (d["intents"] is not JsonValue intentsValue || !intentsValue.TryGetValue(out long intents) || intents < 0 || (intents & ~KnownIntents) != 0)
        {
            return (4013, "Invalid intent(s).");
        }

        var disallowed = ((intents & GuildMembersIntent) != 0 && !_options.GuildMembersIntentEnabled)
            || ((intents & GuildPresencesIntent) != 0 && !_options.PresenceIntentEnabled)
            || ((intents & MessageContentIntent) != 0 && !_options.MessageContentIntentEnabled);
        return disallowed ? (4014, "Disallowed intent(s).") : (0, "");
    }

    /// <summary>
    /// Request Guild Members (docs: events/gateway-events#request-guild-members): one guild per request, "query" is a
    /// case-insensitive prefix of the username (nicknames are not searched) with at most 100 members for a prefix,
    /// or "user_ids" (one snowflake or an array) limited to 100 members. Answered with GUILD_MEMBERS_CHUNK dispatches
    /// of up to 1000 members each, carrying guild_id, members, chunk_index, chunk_count, not_found (for user_ids) and
    /// the request's nonce (when it is a string of at most 32 bytes). A guild that is not on the session's shard gets no answer.
    /// </summary>
    private async Task OnRequestGuildMembersAsync(FakeGatewayConnection connection, JsonObject? d)
    {
        if (d is not null)
        {
            _recorder.Add(new FakeGatewayMemberRequest(connection.Id, (JsonObject)d.DeepClone(), _time.GetUtcNow()));
        }

        var guildId = d?["guild_id"] is JsonValue g && g.TryGetValue(out string? gid) ? gid : null;
        var hasQuery = d?["query"] is JsonValue q && q.TryGetValue(out string? _);
        var hasIds = d?["user_ids"] is JsonArray or JsonValue;
        var hasLimit = d?["limit"] is JsonValue l && l.TryGetValue(out int _);
        if (d is null || guildId is null || hasQuery == hasIds || (hasQuery && !hasLimit))
        {
            await connection.CloseAsync(4002, "Error while decoding payload.").ConfigureAwait(false);
            return;
        }

        var session = connection.Session!;
        var members = _discord.MembersOf(guildId);
        if (members is null || session.Shard is not { } shard || !OnShard(guildId, shard))
        {
            return;
        }

        var nonce = d["nonce"] is JsonValue n && n.TryGetValue(out string? text) && Encoding.UTF8.GetByteCount(text) <= 32 ? text : null;
        if (hasQuery && d["query"]!.GetValue<string>().Length == 0 && d["limit"]!.GetValue<int>() == 0)
        {
            // Docs (change log 2025-08-14, "Introducing Rate Limit When Requesting All Guild Members"): one request for
            // all members per guild per session every 30 seconds; a request past that gets a RATE_LIMITED dispatch.
            var now = _time.GetUtcNow();
            TimeSpan? wait = null;
            lock (_recorder.Gate)
            {
                if (session.AllMembersRequested.TryGetValue(guildId, out var last) && now - last < AllMembersInterval)
                {
                    wait = last + AllMembersInterval - now;
                }
                else
                {
                    session.AllMembersRequested[guildId] = now;
                }
            }

            if (wait is { } retryAfter)
            {
                _recorder.CountAllMembersRateLimited();
                await DispatchGatedAsync(session, "RATE_LIMITED", new JsonObject
                {
                    ["opcode"] = 8,
                    ["retry_after"] = Math.Round(retryAfter.TotalSeconds, 3),
                    ["meta"] = new JsonObject { ["guild_id"] = guildId, ["nonce"] = nonce },
                }).ConfigureAwait(false);
                return;
            }
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

        var chunks = found.Chunk(1000).ToList();
        if (chunks.Count == 0)
        {
            chunks.Add([]);
        }

        await _dispatchGate.WaitAsync(_stopping).ConfigureAwait(false);
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

    private static readonly TimeSpan AllMembersInterval = TimeSpan.FromSeconds(30);

    private static bool IsAllMembers(JsonObject? d) =>
        d?["query"] is JsonValue q && q.TryGetValue(out string? query) && query.Length == 0
        && d["limit"] is JsonValue l && l.TryGetValue(out int limit) && limit == 0;

    private async Task AnswerInBackgroundAsync(FakeGatewayConnection connection, JsonObject d)
    {
        try
        {
            await Task.Yield();
            await OnRequestGuildMembersAsync(connection, d).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or WebSocketException or IOException)
        {
            // The fake is stopping or the connection is gone: the answer is simply not sent, as on a dropped connection.
        }
    }

    private async Task DispatchGatedAsync(FakeGatewaySession session, string eventName, JsonObject data)
    {
        await _dispatchGate.WaitAsync(_stopping).ConfigureAwait(false);
        try
        {
            await DispatchToSessionAsync(session, eventName, data, 1).ConfigureAwait(false);
        }
        finally
        {
            _dispatchGate.Release();
        }
    }

    private async Task OnResumeAsync(FakeGatewayConnection connection, JsonObject? d)
    {
        var token = d?["token"] is JsonValue t && t.TryGetValue(out string? tokenText) ? tokenText : null;
        var sessionId = d?["session_id"] is JsonValue s && s.TryGetValue(out string? id) ? id : null;
        long? seq = d?["seq"] is JsonValue q && q.TryGetValue(out long sequence) ? sequence : null;
        _recorder.Add(new FakeGatewayResume(connection.Id, connection.Path, token, sessionId, seq, _time.GetUtcNow()));

        if (connection.Session is not null)
        {
            await connection.CloseAsync(4005, "Already authenticated.").ConfigureAwait(false);
            return;
        }

        if (d is null || token is null || sessionId is null)
        {
            await connection.CloseAsync(4002, "Error while decoding payload.").ConfigureAwait(false);
            return;
        }

        if (token != _discord.Token)
        {
            await connection.CloseAsync(4004, "Authentication failed.").ConfigureAwait(false);
            return;
        }

        await _dispatchGate.WaitAsync(_stopping).ConfigureAwait(false);
        try
        {
            FakeGatewaySession? session;
            FakeGatewayConnection? previous = null;
            lock (_recorder.Gate)
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
                await connection.SendAsync(new JsonObject { ["op"] = 9, ["d"] = false }).ConfigureAwait(false);
                return;
            }

            if ((seq ?? 0) > session.Sequence)
            {
                lock (_recorder.Gate)
                {
                    session.Invalid = true;
                }

                await connection.CloseAsync(4007, "Invalid seq.").ConfigureAwait(false);
                return;
            }

            previous?.Abort();
            List<(long Seq, string Name, JsonNode Data)> missed;
            lock (_recorder.Gate)
            {
                missed = [.. session.Events.Where(e => e.Seq > (seq ?? 0))];
            }

            foreach (var (eventSeq, name, data) in missed)
            {
                await connection.SendAsync(DispatchPayload(name, data, eventSeq)).ConfigureAwait(false);
            }

            await DispatchToSessionAsync(session, "RESUMED", new JsonObject(), 1).ConfigureAwait(false);
            _recorder.CountResumed();
        }
        finally
        {
            _dispatchGate.Release();
            _recorder.Signal.Pulse();
        }
    }

    // ---- Sending -------------------------------------------------------------------------------

    public async Task<long> DispatchCoreAsync(string eventName, JsonNode data, int fragments)
    {
        await _dispatchGate.WaitAsync(_stopping).ConfigureAwait(false);
        try
        {
            List<FakeGatewaySession> live;
            lock (_recorder.Gate)
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

    /// <summary>
    /// Dispatches a member event of <paramref name="guildId"/> to the sessions that receive it: docs (topics/gateway#sharding)
    /// only the guild's shard, and (gateway#list-of-intents) GUILD_MEMBER_ADD/UPDATE/REMOVE only with GUILD_MEMBERS (1 &lt;&lt; 1).
    /// </summary>
    public async Task DispatchMemberEventAsync(string guildId, string eventName, JsonNode data)
    {
        await _dispatchGate.WaitAsync(_stopping).ConfigureAwait(false);
        try
        {
            List<FakeGatewaySession> receiving;
            lock (_recorder.Gate)
            {
                receiving = [.. _sessions.Values.Where(s => !s.Invalid && s.Shard is { } shard && OnShard(guildId, shard) && (s.Intents & GuildMembersIntent) != 0)];
            }

            foreach (var session in receiving)
            {
                await DispatchToSessionAsync(session, eventName, data.DeepClone(), 1).ConfigureAwait(false);
            }
        }
        finally
        {
            _dispatchGate.Release();
        }
    }

    /// <summary>Numbers, buffers and (if connected) sends one dispatch. Callers hold the dispatch gate so sequence order is wire order.</summary>
    private async Task<long> DispatchToSessionAsync(FakeGatewaySession session, string eventName, JsonNode data, int fragments)
    {
        FakeGatewayConnection? connection;
        long seq;
        lock (_recorder.Gate)
        {
            seq = ++session.Sequence;
            session.Events.Add((seq, eventName, data));
            connection = session.Connection;
        }

        if (connection is not null)
        {
            await connection.SendAsync(DispatchPayload(eventName, data, seq), fragments).ConfigureAwait(false);
        }

        return seq;
    }

    private static JsonObject DispatchPayload(string eventName, JsonNode data, long seq) =>
        new() { ["op"] = 0, ["d"] = data.DeepClone(), ["s"] = seq, ["t"] = eventName };

    public async Task SendToAllAsync(JsonObject payload)
    {
        foreach (var connection in _recorder.Open())
        {
            await connection.SendAsync((JsonObject)payload.DeepClone()).ConfigureAwait(false);
        }
    }
}
