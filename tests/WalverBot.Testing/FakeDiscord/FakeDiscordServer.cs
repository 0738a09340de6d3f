using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WalverBot.Testing.Http;

namespace WalverBot.Testing.FakeDiscord;

/// <summary>
/// Discord's REST API v10 on 127.0.0.1, with in-memory state tests seed and inspect, Discord's
/// error codes, rate-limit headers and 429s, and faults on demand. Speaks raw JSON on purpose: it
/// must not share models with the client it tests.
/// </summary>
public sealed partial class FakeDiscordServer : IAsyncDisposable
{
    private const string ApiPrefix = "/api/v10";

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly RequestRecorder _recorder;
    private readonly FaultPlan _faults = new();
    private readonly DiscordRateLimiter _rateLimiter;
    private readonly Signal _signal = new();
    private readonly List<Route> _routes;

    private readonly Dictionary<string, GuildState> _guilds = [];
    private readonly Dictionary<string, FakeChannel> _channels = [];
    private readonly Dictionary<string, FakeInteraction> _interactions = [];
    private readonly List<SentMessage> _messages = [];
    private readonly List<RoleChange> _roleChanges = [];
    private readonly Dictionary<string, JsonArray> _commands = [];

    private WebApplication? _app;
    private string? _gatewayUrl;
    private int _sessionStartsRemaining = 1000;

    private FakeDiscordServer(FakeDiscordOptions options)
    {
        Options = options;
        _time = options.TimeProvider;
        _recorder = new RequestRecorder(_time);
        _rateLimiter = new DiscordRateLimiter(_time);
        _routes = BuildRoutes();
    }

    public FakeDiscordOptions Options { get; }

    public string Token => Options.Token;

    public string BotUserId => Options.BotUserId;

    public string ApplicationId => Options.ApplicationId ?? Options.BotUserId;

    /// <summary>e.g. http://127.0.0.1:PORT/api/v10 (no trailing slash), the value for Discord:ApiBaseUrl.</summary>
    public string ApiBaseUrl { get; private set; } = "";

    public static async Task<FakeDiscordServer> StartAsync(FakeDiscordOptions? options = null)
    {
        var server = new FakeDiscordServer(options ?? new FakeDiscordOptions());
        var (app, baseAddress) = await LoopbackHost.StartAsync(a => a.Run(server.HandleAsync)).ConfigureAwait(false);
        server._app = app;
        server.ApiBaseUrl = new Uri(baseAddress, ApiPrefix).ToString();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    // ---- Seeding -------------------------------------------------------------------------------

    /// <summary>Adds a guild with its @everyone role (id = guild id, position 0) and the bot as a member without roles.</summary>
    public void AddGuild(string guildId, string name, string ownerId = "1100000000000000999", string everyonePermissions = "1071698660929")
    {
        lock (_gate)
        {
            var guild = new GuildState(guildId, name, ownerId);
            guild.Roles[guildId] = new FakeRole(guildId, "@everyone", 0, everyonePermissions);
            guild.Members[BotUserId] = new FakeMember(BotUserId, Options.BotUsername) { Bot = true };
            _guilds[guildId] = guild;
        }
    }

    public void AddRole(string guildId, FakeRole role)
    {
        lock (_gate)
        {
            Guild(guildId).Roles[role.Id] = role;
        }
    }

    /// <summary>Adds or replaces a member.</summary>
    public void AddMember(string guildId, FakeMember member)
    {
        lock (_gate)
        {
            Guild(guildId).Members[member.UserId] = member;
        }
    }

    public void RemoveMember(string guildId, string userId)
    {
        lock (_gate)
        {
            Guild(guildId).Members.Remove(userId);
        }
    }

    /// <summary>Sets the bot's own roles in a guild (its permissions and highest position come from them).</summary>
    public void SetBotRoles(string guildId, params string[] roleIds)
    {
        lock (_gate)
        {
            var guild = Guild(guildId);
            guild.Members[BotUserId] = guild.Members[BotUserId] with { Roles = roleIds };
        }
    }

    public void AddChannel(FakeChannel channel)
    {
        lock (_gate)
        {
            Guild(channel.GuildId);
            _channels[channel.Id] = channel;
        }
    }

    /// <summary>Creates a slash-command interaction Discord would send; dispatch <see cref="FakeInteraction.Payload"/> as INTERACTION_CREATE.</summary>
    /// <param name="data">The interaction's "data" object, e.g. {"name":"walver","type":1,"options":[...]}; "id" is filled in when absent.</param>
    public FakeInteraction CreateCommandInteraction(string guildId, string channelId, string userId, JsonObject data) =>
        CreateInteraction(2, guildId, channelId, userId, data);

    /// <summary>
    /// An autocomplete interaction (type 4) for a command whose option is being typed; mark that option <c>"focused": true</c>
    /// in <paramref name="data"/>. Discord accepts only callback type 8 (choices) for it.
    /// </summary>
    public FakeInteraction CreateAutocompleteInteraction(string guildId, string channelId, string userId, JsonObject data) =>
        CreateInteraction(4, guildId, channelId, userId, data);

    private FakeInteraction CreateInteraction(int type, string guildId, string channelId, string userId, JsonObject data)
    {
        lock (_gate)
        {
            var guild = Guild(guildId);
            var member = guild.Members.GetValueOrDefault(userId) ?? throw new InvalidOperationException($"User {userId} is not a member of guild {guildId}; seed it first.");
            var now = _time.GetUtcNow();
            var id = Snowflake.At(now);
            var token = "aW50ZXJhY3Rpb246" + id + ":" + Guid.NewGuid().ToString("N");
            data = (JsonObject)data.DeepClone();
            data["id"] ??= Snowflake.At(now);
            data["type"] ??= 1;

            var memberJson = DiscordJson.Member(member);
            memberJson["permissions"] = PermissionsOf(guild, userId).ToString(CultureInfo.InvariantCulture);
            var channelJson = _channels.TryGetValue(channelId, out var channel)
                ? DiscordJson.Channel(channel, 0, BotUserId)
                : new JsonObject { ["id"] = channelId, ["type"] = 0, ["guild_id"] = guildId };

            var payload = new JsonObject
            {
                ["id"] = id,
                ["application_id"] = ApplicationId,
                ["type"] = type, // 2 APPLICATION_COMMAND, 4 APPLICATION_COMMAND_AUTOCOMPLETE
                ["data"] = data,
                ["guild_id"] = guildId,
                ["channel_id"] = channelId,
                ["channel"] = channelJson,
                ["member"] = memberJson,
                ["token"] = token,
                ["version"] = 1,
                ["app_permissions"] = PermissionsOf(guild, BotUserId).ToString(CultureInfo.InvariantCulture),
                ["locale"] = "en-US",
                ["guild_locale"] = "en-US",
                ["entitlements"] = new JsonArray(),
                ["authorizing_integration_owners"] = new JsonObject { ["0"] = guildId },
                ["context"] = 0,
            };

            var interaction = new FakeInteraction(id, token, ApplicationId, now, payload);
            _interactions[id] = interaction;
            return interaction;
        }
    }

    /// <summary>Remaining session starts reported by /gateway/bot; each IDENTIFY on an attached gateway uses one.</summary>
    public int SessionStartsRemaining
    {
        get { lock (_gate) { return _sessionStartsRemaining; } }
        set { lock (_gate) { _sessionStartsRemaining = value; } }
    }

    /// <summary>
    /// When true, <c>GET /users/@me/guilds</c> leaves out each guild's <c>permissions</c>, as some Discord-compatible
    /// servers do (the field is documented, but a client must not read its absence as "no permissions").
    /// </summary>
    public bool OmitGuildPermissions { get; set; }

    // ---- Rate limits and faults ----------------------------------------------------------------

    /// <summary>Sets a bucket's limit (see <see cref="DiscordBuckets"/>); resets that bucket's windows.</summary>
    public void SetRateLimit(string bucket, int limit, TimeSpan window, string scope = "user") =>
        _rateLimiter.Configure(bucket, new RouteLimit(limit, window, scope));

    /// <summary>Requests per second across all authenticated routes (Discord: 50). Interaction routes are exempt, as Discord documents.</summary>
    public int GlobalRateLimitPerSecond
    {
        get => _rateLimiter.GlobalLimitPerSecond;
        set => _rateLimiter.GlobalLimitPerSecond = value;
    }

    /// <summary>The opaque X-RateLimit-Bucket hash the fake sends for a bucket.</summary>
    public static string BucketHash(string bucket) => DiscordRateLimiter.HashOf(bucket);

    public IReadOnlyList<BucketStats> BucketStatistics() => _rateLimiter.Snapshot();

    public BucketStats StatsFor(string bucket) =>
        BucketStatistics().FirstOrDefault(s => s.Bucket == bucket) ?? new BucketStats(bucket, BucketHash(bucket), 0, 0, 0, 0);

    /// <summary>401 + 403 + 429 answers across all buckets (what Discord's 10,000-per-10-minutes ban counts).</summary>
    public int InvalidRequestCount => BucketStatistics().Sum(s => s.InvalidRequests);

    /// <summary>Applies a fault to the next <paramref name="times"/> requests matching method and path (relative to /api/v10, e.g. "/guilds/*/members/*/roles/*").</summary>
    public void InjectFault(string method, string pathPattern, FakeFault fault, int times = 1) =>
        _faults.Add(method, pathPattern, fault, times);

    public void ClearFaults() => _faults.Clear();

    /// <summary>Every request answers <paramref name="status"/> with a non-JSON body until <see cref="ComeBackUp"/>.</summary>
    public void GoDown(int status = 503) => _faults.BeginOutage(status);

    public void ComeBackUp() => _faults.EndOutage();

    // ---- Inspection ----------------------------------------------------------------------------

    public IReadOnlyList<RecordedRequest> Requests => _recorder.Snapshot();

    /// <summary>Requests whose path (relative to /api/v10) matches, e.g. RequestsTo("PUT", "/guilds/*/members/*/roles/*").</summary>
    public IReadOnlyList<RecordedRequest> RequestsTo(string method, string pathPattern) =>
        [.. Requests.Where(r => PathPattern.IsMatch(method, pathPattern, r.Method, Relative(r.Path)))];

    public FakeMember? GetMember(string guildId, string userId)
    {
        lock (_gate)
        {
            return Guild(guildId).Members.GetValueOrDefault(userId);
        }
    }

    public IReadOnlyList<string> GetMemberRoles(string guildId, string userId) =>
        GetMember(guildId, userId)?.Roles ?? throw new InvalidOperationException($"No member {userId} in guild {guildId}.");

    public IReadOnlyList<RoleChange> RoleChanges
    {
        get { lock (_gate) { return [.. _roleChanges]; } }
    }

    /// <summary>Channel messages, followups and edits, in order.</summary>
    public IReadOnlyList<SentMessage> Messages
    {
        get { lock (_gate) { return [.. _messages]; } }
    }

    public InteractionCallback? CallbackFor(string interactionId)
    {
        lock (_gate)
        {
            return _interactions.GetValueOrDefault(interactionId)?.Callback;
        }
    }

    public IReadOnlyList<SentMessage> EditsOfOriginal(string interactionId)
    {
        lock (_gate)
        {
            return [.. _interactions[interactionId].Edits];
        }
    }

    public IReadOnlyList<SentMessage> Followups(string interactionId)
    {
        lock (_gate)
        {
            return [.. _interactions[interactionId].Followups];
        }
    }

    /// <summary>Registered commands: global when guildId is null. Returns a copy.</summary>
    public JsonArray? RegisteredCommands(string? guildId = null)
    {
        lock (_gate)
        {
            return _commands.TryGetValue(guildId ?? "", out var commands) ? (JsonArray)commands.DeepClone() : null;
        }
    }

    /// <summary>Waits (without polling) until the condition on this fake's state holds.</summary>
    public Task WaitUntilAsync(Func<FakeDiscordServer, bool> condition, TimeSpan? timeout = null, string description = "a condition on the fake Discord") =>
        _signal.WaitUntilAsync(() => condition(this), timeout ?? TimeSpan.FromSeconds(10), description);

    public async Task<RecordedRequest> WaitForRequestAsync(string method, string pathPattern, TimeSpan? timeout = null) =>
        (await WaitForRequestsAsync(method, pathPattern, 1, timeout).ConfigureAwait(false))[0];

    public async Task<IReadOnlyList<RecordedRequest>> WaitForRequestsAsync(string method, string pathPattern, int count, TimeSpan? timeout = null)
    {
        await WaitUntilAsync(d => d.RequestsTo(method, pathPattern).Count(r => r.Status is not null) >= count, timeout, $"{count} answered {method} {pathPattern}").ConfigureAwait(false);
        return RequestsTo(method, pathPattern);
    }

    public void ClearRecordedRequests() => _recorder.Clear();

    // ---- Gateway support -----------------------------------------------------------------------

    internal void AttachGateway(string url)
    {
        lock (_gate)
        {
            _gatewayUrl = url;
        }
    }

    internal bool TryUseSessionStart()
    {
        lock (_gate)
        {
            if (_sessionStartsRemaining <= 0)
            {
                return false;
            }

            _sessionStartsRemaining--;
            return true;
        }
    }

    /// <summary>The guild's members, or null for a guild the fake does not have.</summary>
    internal IReadOnlyList<FakeMember>? MembersOf(string guildId)
    {
        lock (_gate)
        {
            return _guilds.TryGetValue(guildId, out var guild) ? [.. guild.Members.Values] : null;
        }
    }

    internal IReadOnlyList<string> GuildIds()
    {
        lock (_gate)
        {
            return [.. _guilds.Keys];
        }
    }

    internal JsonObject BotUserJson() => DiscordJson.User(BotUserId, Options.BotUsername, null, bot: true);

    /// <summary>GUILD_CREATE data; offline members are left out of guilds larger than largeThreshold, as Discord does.</summary>
    internal JsonObject GuildCreateJson(string guildId, int largeThreshold, DateTimeOffset now)
    {
        lock (_gate)
        {
            var guild = Guild(guildId);
            var json = GuildJson(guild);
            var large = guild.Members.Count > largeThreshold;
            var members = large ? guild.Members.Values.Where(m => m.UserId == BotUserId) : guild.Members.Values;
            json["joined_at"] = now.ToString("O", CultureInfo.InvariantCulture);
            json["large"] = large;
            json["unavailable"] = false;
            json["member_count"] = guild.Members.Count;
            json["members"] = new JsonArray([.. members.Select(m => (JsonNode)DiscordJson.Member(m))]);
            json["channels"] = ChannelsJson(guildId);
            json["threads"] = new JsonArray();
            json["presences"] = new JsonArray();
            json["voice_states"] = new JsonArray();
            json["stage_instances"] = new JsonArray();
            json["guild_scheduled_events"] = new JsonArray();
            json["soundboard_sounds"] = new JsonArray();
            return json;
        }
    }

    /// <summary>A member's JSON with guild_id, as GUILD_MEMBER_ADD / GUILD_MEMBER_UPDATE carry it.</summary>
    public JsonObject MemberEventJson(string guildId, string userId)
    {
        lock (_gate)
        {
            var member = Guild(guildId).Members.GetValueOrDefault(userId) ?? throw new InvalidOperationException($"No member {userId} in guild {guildId}.");
            var json = DiscordJson.Member(member);
            json["guild_id"] = guildId;
            return json;
        }
    }

    // ---- Pipeline ------------------------------------------------------------------------------

    private async Task HandleAsync(HttpContext context)
    {
        var request = await _recorder.RecordAsync(context).ConfigureAwait(false);
        try
        {
            await AnswerAsync(context, request).ConfigureAwait(false);
        }
        finally
        {
            _signal.Pulse();
        }
    }

    private async Task AnswerAsync(HttpContext context, RecordedRequest request)
    {
        var path = request.Path;
        if (!path.StartsWith(ApiPrefix + "/", StringComparison.Ordinal))
        {
            await WriteAsync(context, request, new DiscordResult(404, DiscordJson.Error(0, "404: Not Found"))).ConfigureAwait(false);
            return;
        }

        var relative = Relative(path);
        if (_faults.OutageStatus is int downStatus)
        {
            // What Discord's edge answers during an outage: not JSON.
            await WriteRawAsync(context, request, downStatus, "upstream connect error or disconnect/reset before headers. reset reason: connection termination", "text/plain").ConfigureAwait(false);
            return;
        }

        var match = Match(request.Method, relative, out var methodMismatch);

        while (_faults.TryTake(request.Method, relative, out var fault))
        {
            switch (fault)
            {
                case DelayFault delay:
                    await Task.Delay(delay.Duration, context.RequestAborted).ConfigureAwait(false);
                    continue;
                case AbortFault:
                    context.Abort();
                    return;
                case StatusFault status:
                    await WriteRawAsync(context, request, status.StatusCode, status.Body, status.ContentType).ConfigureAwait(false);
                    return;
                case RateLimitFault limit:
                    if (match is not null && limit.Scope != "shared")
                    {
                        _rateLimiter.CountAnswer(match.Value.Route.Bucket, 429, countRequest: true);
                    }

                    await WriteTooManyRequestsAsync(context, request, limit.RetryAfterSeconds, limit.Scope, null).ConfigureAwait(false);
                    return;
            }
        }

        if (match is not (var route, var values))
        {
            var result = methodMismatch
                ? new DiscordResult(405, DiscordJson.Error(0, "405: Method Not Allowed"))
                : new DiscordResult(404, DiscordJson.Error(0, "404: Not Found"));
            await WriteAsync(context, request, result).ConfigureAwait(false);
            return;
        }

        if (route.Authenticated && request.Header("Authorization") != "Bot " + Token)
        {
            _rateLimiter.CountAnswer(route.Bucket, 401, countRequest: true);
            await WriteAsync(context, request, new DiscordResult(401, DiscordJson.Error(0, "401: Unauthorized"))).ConfigureAwait(false);
            return;
        }

        // "Interaction endpoints are not bound to the bot's Global Rate Limit." (Discord, Rate Limits)
        if (route.Global && !_rateLimiter.TryAcquireGlobal(out var globalRetry))
        {
            _rateLimiter.CountAnswer(route.Bucket, 429, countRequest: true);
            await WriteTooManyRequestsAsync(context, request, globalRetry, "global", null).ConfigureAwait(false);
            return;
        }

        var major = MajorParameter(route, values);
        var decision = _rateLimiter.Acquire(route.Bucket, major);
        if (!decision.Allowed)
        {
            await WriteTooManyRequestsAsync(context, request, decision.ResetAfter, decision.Scope, decision).ConfigureAwait(false);
            return;
        }

        DiscordResult answer;
        JsonNode? body = null;
        if (route.ParsesBody && request.Body.Length > 0)
        {
            try
            {
                body = IsMultipart(request) ? await ReadMultipartAsync(request).ConfigureAwait(false) : JsonNode.Parse(request.Body);
            }
            catch (JsonException)
            {
                answer = new DiscordResult(400, DiscordJson.Error(50109, "The request body contains invalid JSON."));
                await WriteAsync(context, request, answer, decision).ConfigureAwait(false);
                return;
            }
        }

        answer = route.Handler(new RouteContext(context, request, values, body));
        if (answer.Status is 401 or 403)
        {
            _rateLimiter.CountAnswer(route.Bucket, answer.Status, countRequest: false);
        }

        await WriteAsync(context, request, answer, decision).ConfigureAwait(false);
    }

    private static string Relative(string path) =>
        path.StartsWith(ApiPrefix, StringComparison.Ordinal) ? path[ApiPrefix.Length..] : path;

    private static string MajorParameter(Route route, IReadOnlyDictionary<string, string> values) =>
        route.Segments[0] switch
        {
            "guilds" => values["guild"],
            "channels" => values["channel"],
            "webhooks" => values["app"] + "/" + values["token"],
            "interactions" => values["interaction"] + "/" + values["token"],
            _ => "",
        };

    private static void AddRateLimitHeaders(HttpResponse response, BucketDecision decision)
    {
        response.Headers["X-RateLimit-Limit"] = decision.Limit.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-RateLimit-Remaining"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-RateLimit-Reset"] = DiscordJson.Seconds(decision.ResetAt.ToUnixTimeMilliseconds() / 1000.0);
        response.Headers["X-RateLimit-Reset-After"] = DiscordJson.Seconds(Math.Max(0, decision.ResetAfter));
        response.Headers["X-RateLimit-Bucket"] = decision.Hash;
    }

    private static async Task WriteAsync(HttpContext context, RecordedRequest request, DiscordResult result, BucketDecision? decision = null)
    {
        if (decision is { } d)
        {
            AddRateLimitHeaders(context.Response, d);
        }

        context.Response.StatusCode = result.Status;
        request.Status = result.Status;
        if (result.Body is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(result.Body.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static async Task WriteRawAsync(HttpContext context, RecordedRequest request, int status, string body, string contentType)
    {
        context.Response.StatusCode = status;
        request.Status = status;
        if (body.Length > 0)
        {
            context.Response.ContentType = contentType;
            await context.Response.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>429 as Discord documents it: JSON body with retry_after (float seconds) and global, Retry-After, X-RateLimit-Scope, and X-RateLimit-Global on global limits.</summary>
    private static Task WriteTooManyRequestsAsync(HttpContext context, RecordedRequest request, double retryAfter, string scope, BucketDecision? decision)
    {
        var global = scope == "global";
        var headers = context.Response.Headers;
        headers["Retry-After"] = Math.Ceiling(retryAfter).ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Scope"] = scope;
        if (global)
        {
            headers["X-RateLimit-Global"] = "true";
        }

        var body = new JsonObject
        {
            ["message"] = "You are being rate limited.",
            ["retry_after"] = Math.Round(retryAfter, 3),
            ["global"] = global,
        };
        return WriteAsync(context, request, new DiscordResult(429, body), decision);
    }

    private GuildState Guild(string guildId) =>
        _guilds.GetValueOrDefault(guildId) ?? throw new InvalidOperationException($"Guild {guildId} is not seeded.");

    private sealed class GuildState(string id, string name, string ownerId)
    {
        public string Id { get; } = id;

        public string Name { get; } = name;

        public string OwnerId { get; } = ownerId;

        public Dictionary<string, FakeRole> Roles { get; } = [];

        public Dictionary<string, FakeMember> Members { get; } = [];
    }
}

internal readonly record struct DiscordResult(int Status, JsonNode? Body)
{
    public static DiscordResult NoContent => new(204, null);

    public static DiscordResult Ok(JsonNode body) => new(200, body);

    public static DiscordResult Error(int status, int code, string message, JsonObject? errors = null) =>
        new(status, DiscordJson.Error(code, message, errors));
}
