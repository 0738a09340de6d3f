using System.Net.WebSockets;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WalverBot.Testing.Http;

namespace WalverBot.Testing.FakeDiscord;

/// <summary>
/// Discord gateway v10 (JSON encoding) over WebSocket on 127.0.0.1, per Discord's Gateway docs. This type is what
/// tests script and inspect; <see cref="FakeGatewayConnection"/> owns the socket, frames and close codes,
/// <see cref="FakeGatewaySessions"/> the protocol, and <see cref="FakeGatewayRecorder"/> what the bot sent.
/// </summary>
public sealed class FakeGatewayServer : IAsyncDisposable
{
    private const string ResumePath = "/resume";

    private readonly FakeGatewayRecorder _recorder = new();
    private readonly FakeGatewaySessions _sessions;
    private readonly CancellationTokenSource _stopping = new();
    // Role changes made through the fake REST API, as GUILD_MEMBER_UPDATE dispatches, sent one at a time in order.
    private readonly Channel<(string GuildId, JsonObject Data)> _memberUpdates = Channel.CreateUnbounded<(string, JsonObject)>(new UnboundedChannelOptions { SingleReader = true });
    private WebApplication? _app;
    private Task _memberUpdatesSent = Task.CompletedTask;
    private int _roleChangesDispatched;

    private FakeGatewayServer(FakeDiscordServer discord, FakeGatewayOptions options)
    {
        Options = options;
        _sessions = new FakeGatewaySessions(discord, options, options.TimeProvider ?? discord.Options.TimeProvider, _recorder, _stopping.Token);
    }

    public FakeGatewayOptions Options { get; }

    /// <summary>e.g. ws://127.0.0.1:PORT/ — what /gateway/bot returns; the bot appends ?v=10&amp;encoding=json.</summary>
    public string Url { get; private set; } = "";

    /// <summary>resume_gateway_url sent in READY: a distinct path of this server, so tests can tell a RESUME used it.</summary>
    public string ResumeUrl => _sessions.ResumeUrl;

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
        server._sessions.ResumeUrl = ws + ResumePath;
        discord.AttachGateway(ws, (guildId, data) => server._memberUpdates.Writer.TryWrite((guildId, data)));
        server._memberUpdatesSent = server.SendMemberUpdatesAsync();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _memberUpdatesSent.ConfigureAwait(false);
        DropConnection();
        if (_app is not null)
        {
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task SendMemberUpdatesAsync()
    {
        try
        {
            await foreach (var (guildId, data) in _memberUpdates.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                await _sessions.DispatchMemberEventAsync(guildId, "GUILD_MEMBER_UPDATE", data).ConfigureAwait(false);
                Interlocked.Increment(ref _roleChangesDispatched);
                _recorder.Signal.Pulse();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    // ---- Scripting -----------------------------------------------------------------------------

    /// <summary>Role changes made through the fake REST API whose GUILD_MEMBER_UPDATE went to every session receiving it.</summary>
    public int RoleChangesDispatched => Volatile.Read(ref _roleChangesDispatched);

    /// <summary>Stops answering heartbeats with op 11 (a zombie connection, as the bot sees it).</summary>
    public void WithholdAcks(bool withhold) => _sessions.WithholdAcks = withhold;

    /// <summary>Kills every open connection without a close frame. Sessions stay resumable.</summary>
    public void DropConnection()
    {
        foreach (var connection in _recorder.Open())
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
        foreach (var connection in _recorder.Open())
        {
            connection.Frozen = true;
        }
    }

    /// <summary>Closes every open connection with a close code. 4007 and 4009 also end the session (a RESUME then gets op 9).</summary>
    public async Task CloseAsync(int code, string reason = "")
    {
        foreach (var connection in _recorder.Open())
        {
            await connection.CloseAsync(code, reason).ConfigureAwait(false);
        }
    }

    /// <summary>Sends op 7 Reconnect: the bot should reconnect and resume.</summary>
    public Task SendReconnectAsync() => _sessions.SendToAllAsync(new JsonObject { ["op"] = 7, ["d"] = null });

    /// <summary>Sends op 9 Invalid Session; when not resumable the session is gone and only IDENTIFY works.</summary>
    public Task SendInvalidSessionAsync(bool resumable)
    {
        if (!resumable)
        {
            ExpireSessions();
        }

        return _sessions.SendToAllAsync(new JsonObject { ["op"] = 9, ["d"] = resumable });
    }

    /// <summary>Sends op 1 from the server: the bot must heartbeat immediately.</summary>
    public Task RequestHeartbeatAsync() => _sessions.SendToAllAsync(new JsonObject { ["op"] = 1, ["d"] = null });

    /// <summary>Ends every session: a later RESUME gets op 9 d:false.</summary>
    public void ExpireSessions() => _sessions.ExpireAll();

    /// <summary>Dispatches an event (op 0) to every live session with its next sequence number; it is buffered for RESUME replay while the bot is disconnected. Returns the last sequence used.</summary>
    public Task<long> DispatchAsync(string eventName, JsonNode data) => _sessions.DispatchCoreAsync(eventName, data, fragments: 1);

    public Task<long> DispatchAsync(string eventName, string json) =>
        DispatchAsync(eventName, JsonNode.Parse(json) ?? throw new ArgumentException("null JSON", nameof(json)));

    /// <summary>Dispatches an event whose JSON is split over several WebSocket frames (continuation frames), as Discord does for large payloads.</summary>
    public Task<long> SendLargePayloadInFragmentsAsync(string eventName, JsonNode data, int fragments = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fragments, 2);
        return _sessions.DispatchCoreAsync(eventName, data, fragments);
    }

    // ---- Inspection ----------------------------------------------------------------------------

    public IReadOnlyList<FakeGatewayIdentify> Identifies => _recorder.Identifies;

    public IReadOnlyList<FakeGatewayResume> Resumes => _recorder.Resumes;

    public IReadOnlyList<FakeGatewayHeartbeat> Heartbeats => _recorder.Heartbeats;

    /// <summary>Request Guild Members (op 8) payloads the bot sent on an identified session, oldest first.</summary>
    public IReadOnlyList<FakeGatewayMemberRequest> MemberRequests => _recorder.MemberRequests;

    public IReadOnlyList<FakeGatewayConnectionInfo> Connections => _recorder.Connections;

    public int ConnectionCount => _recorder.ConnectionCount;

    /// <summary>READY events sent (new sessions).</summary>
    public int ReadyCount => _recorder.ReadyCount;

    /// <summary>RESUMED events sent (successful resumes).</summary>
    public int ResumedCount => _recorder.ResumedCount;

    /// <summary>IDENTIFYs answered with op 9 because they came within 5 s of the previous session start (max_concurrency 1).</summary>
    public int IdentifiesRefused => _recorder.IdentifiesRefused;

    /// <summary>Requests for a guild's whole member list answered RATE_LIMITED (a second one within 30 s on a session).</summary>
    public int AllMembersRateLimited => _recorder.AllMembersRateLimited;

    /// <summary>Session ids handed out in READY, oldest first.</summary>
    public IReadOnlyList<string> SessionIds => _sessions.SessionIds;

    /// <summary>The requests for a guild's whole member list (op 8 with query "" and limit 0).</summary>
    public IReadOnlyList<FakeGatewayMemberRequest> AllMembersRequests =>
        [.. MemberRequests.Where(r => r.Query == "" && r.Data["limit"] is JsonValue l && l.TryGetValue(out int limit) && limit == 0)];

    public Task WaitForMemberRequestsAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(g => g.MemberRequests.Count >= count, timeout, $"{count} Request Guild Members");

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
        _recorder.Signal.WaitUntilAsync(() => condition(this), timeout ?? TimeSpan.FromSeconds(10), description, () => "Connections: " + string.Join("; ", Connections));

    // ---- Accepting -----------------------------------------------------------------------------

    private async Task AcceptAsync(HttpContext context)
    {
        var path = context.Request.Path.Value?.TrimEnd('/') ?? "";
        if (path is not ("" or ResumePath) || !context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        var connection = _recorder.AddConnection(socket, context, path.Length == 0 ? "/" : path);
        try
        {
            await _sessions.RunAsync(connection).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            connection.Aborted = true;
        }
        finally
        {
            lock (_recorder.Gate)
            {
                connection.MarkEnded();
                if (connection.Session?.Connection == connection)
                {
                    connection.Session.Connection = null;
                }
            }

            _recorder.Signal.Pulse();
        }
    }
}
