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
    private readonly FakeHttpPipeline _pipeline;
    private readonly FakeDiscordRateLimiter _rateLimiter;

    private readonly Dictionary<string, GuildState> _guilds = [];
    private readonly Dictionary<string, FakeChannel> _channels = [];
    private readonly Dictionary<string, FakeInteraction> _interactions = [];
    private readonly List<FakeSentMessage> _messages = [];
    private readonly List<FakeRoleChange> _roleChanges = [];
    private readonly Dictionary<string, JsonArray> _commands = [];

    private WebApplication? _app;
    private string? _gatewayUrl;
    private Action<string, JsonObject>? _memberUpdated;
    private int _sessionStartsRemaining = 1000;

    private FakeDiscordServer(FakeDiscordOptions options)
    {
        Options = options;
        _time = options.TimeProvider;
        // What Discord's edge answers during an outage: not JSON.
        _pipeline = new FakeHttpPipeline(_time, _ => ("upstream connect error or disconnect/reset before headers. reset reason: connection termination", "text/plain"));
        _rateLimiter = new FakeDiscordRateLimiter(_time);
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
        var (app, baseAddress) = await FakeLoopbackHost.StartAsync(server.MapEndpoints).ConfigureAwait(false);
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

    public void AddRole(string guildId, FakeRole role) => Locked(() => Guild(guildId).Roles[role.Id] = role);

    /// <summary>Adds or replaces a member.</summary>
    public void AddMember(string guildId, FakeMember member) => Locked(() => Guild(guildId).Members[member.UserId] = member);

    public void RemoveMember(string guildId, string userId) => Locked(() => Guild(guildId).Members.Remove(userId));

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
            var id = FakeSnowflake.At(now);
            var token = "aW50ZXJhY3Rpb246" + id + ":" + Guid.NewGuid().ToString("N");
            data = (JsonObject)data.DeepClone();
            data["id"] ??= FakeSnowflake.At(now);
            data["type"] ??= 1;

            var memberJson = FakeDiscordJson.Member(member);
            memberJson["permissions"] = PermissionsOf(guild, userId).ToString(CultureInfo.InvariantCulture);
            var channelJson = _channels.TryGetValue(channelId, out var channel)
                ? FakeDiscordJson.Channel(channel, 0, BotUserId)
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

    /// <summary>Sets a bucket's limit (see <see cref="FakeDiscordBuckets"/>); resets that bucket's windows.</summary>
    public void SetRateLimit(string bucket, int limit, TimeSpan window, string scope = "user") =>
        _rateLimiter.Configure(bucket, new FakeRouteLimit(limit, window, scope));

    /// <summary>Requests per second across all authenticated routes (Discord: 50). Interaction routes are exempt, as Discord documents.</summary>
    public int GlobalRateLimitPerSecond
    {
        get => _rateLimiter.GlobalLimitPerSecond;
        set => _rateLimiter.GlobalLimitPerSecond = value;
    }

    /// <summary>The opaque X-RateLimit-Bucket hash the fake sends for a bucket.</summary>
    public static string BucketHash(string bucket) => FakeDiscordRateLimiter.HashOf(bucket);

    public IReadOnlyList<FakeBucketStats> BucketStatistics() => _rateLimiter.Snapshot();

    public FakeBucketStats StatsFor(string bucket) =>
        BucketStatistics().FirstOrDefault(s => s.Bucket == bucket) ?? new FakeBucketStats(bucket, BucketHash(bucket), 0, 0, 0, 0);

    /// <summary>401 + 403 + 429 answers across all buckets (what Discord's 10,000-per-10-minutes ban counts).</summary>
    public int InvalidRequestCount => BucketStatistics().Sum(s => s.InvalidRequests);

    /// <summary>Applies a fault to the next <paramref name="times"/> requests matching method and path (relative to /api/v10, e.g. "/guilds/*/members/*/roles/*").</summary>
    public void InjectFault(string method, string pathPattern, FakeFault fault, int times = 1) =>
        _pipeline.Faults.Add(method, pathPattern, fault, times);

    public void ClearFaults() => _pipeline.Faults.Clear();

    /// <summary>Every request answers <paramref name="status"/> with a non-JSON body until <see cref="ComeBackUp"/>.</summary>
    public void GoDown(int status = 503) => _pipeline.Faults.BeginOutage(status);

    public void ComeBackUp() => _pipeline.Faults.EndOutage();

    // ---- Inspection ----------------------------------------------------------------------------

    public IReadOnlyList<FakeRecordedRequest> Requests => _pipeline.Recorder.Snapshot();

    /// <summary>Every request as it arrived (with its arrival time), with awaitable waits for arrivals.</summary>
    public FakeRequestRecorder Recorder => _pipeline.Recorder;

    /// <summary>Requests whose path (relative to /api/v10) matches, e.g. RequestsTo("PUT", "/guilds/*/members/*/roles/*").</summary>
    public IReadOnlyList<FakeRecordedRequest> RequestsTo(string method, string pathPattern) =>
        [.. Requests.Where(r => IsTo(r, method, pathPattern))];

    private static bool IsTo(FakeRecordedRequest request, string method, string pathPattern) =>
        FakePathPattern.IsMatch(method, pathPattern, request.Method, Relative(request.Path));

    public FakeMember? GetMember(string guildId, string userId) => Locked(() => Guild(guildId).Members.GetValueOrDefault(userId));

    public IReadOnlyList<string> GetMemberRoles(string guildId, string userId) =>
        GetMember(guildId, userId)?.Roles ?? throw new InvalidOperationException($"No member {userId} in guild {guildId}.");

    public IReadOnlyList<FakeRoleChange> RoleChanges
    {
        get { lock (_gate) { return [.. _roleChanges]; } }
    }

    /// <summary>Channel messages, followups and edits, in order.</summary>
    public IReadOnlyList<FakeSentMessage> Messages
    {
        get { lock (_gate) { return [.. _messages]; } }
    }

    public FakeInteractionCallback? CallbackFor(string interactionId) => Locked(() => _interactions.GetValueOrDefault(interactionId)?.Callback);

    public IReadOnlyList<FakeSentMessage> EditsOfOriginal(string interactionId) => Locked<IReadOnlyList<FakeSentMessage>>(() => [.. _interactions[interactionId].Edits]);

    public IReadOnlyList<FakeSentMessage> Followups(string interactionId) => Locked<IReadOnlyList<FakeSentMessage>>(() => [.. _interactions[interactionId].Followups]);

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
        _pipeline.Signal.WaitUntilAsync(() => condition(this), timeout ?? TimeSpan.FromSeconds(10), description);

    public async Task<FakeRecordedRequest> WaitForRequestAsync(string method, string pathPattern, TimeSpan? timeout = null) =>
        (await WaitForRequestsAsync(method, pathPattern, 1, timeout).ConfigureAwait(false))[0];

    /// <summary>Waits until <paramref name="count"/> requests matching method and path (relative to /api/v10) have been answered; returns every match.</summary>
    public async Task<IReadOnlyList<FakeRecordedRequest>> WaitForRequestsAsync(string method, string pathPattern, int count, TimeSpan? timeout = null)
    {
        await Recorder.WaitForArrivalsAsync(r => r.Status is not null && IsTo(r, method, pathPattern), count, timeout, $"answered {method} {pathPattern}").ConfigureAwait(false);
        return RequestsTo(method, pathPattern);
    }

    public void ClearRecordedRequests() => _pipeline.Recorder.Clear();

    // ---- Gateway support -----------------------------------------------------------------------

    /// <summary>Makes GET /gateway/bot return <paramref name="url"/>; role changes are handed to <paramref name="memberUpdated"/> (guild id, GUILD_MEMBER_UPDATE data) in the order they happen.</summary>
    internal void AttachGateway(string url, Action<string, JsonObject> memberUpdated)
    {
        lock (_gate)
        {
            _gatewayUrl = url;
            _memberUpdated = memberUpdated;
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
    internal IReadOnlyList<FakeMember>? MembersOf(string guildId) => Locked<IReadOnlyList<FakeMember>?>(() => _guilds.TryGetValue(guildId, out var guild) ? [.. guild.Members.Values] : null);

    internal IReadOnlyList<string> GuildIds() => Locked<IReadOnlyList<string>>(() => [.. _guilds.Keys]);

    internal JsonObject BotUserJson() => FakeDiscordJson.User(BotUserId, Options.BotUsername, null, bot: true);

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
            json["members"] = new JsonArray([.. members.Select(m => (JsonNode)FakeDiscordJson.Member(m))]);
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
            var json = FakeDiscordJson.Member(member);
            json["guild_id"] = guildId;
            return json;
        }
    }

    private static string Relative(string path) =>
        path.StartsWith(ApiPrefix, StringComparison.Ordinal) ? path[ApiPrefix.Length..] : path;

    /// <summary>Reads state under the fake's one lock (handlers run on Kestrel threads while tests seed and read).</summary>
    private T Locked<T>(Func<T> read)
    {
        lock (_gate)
        {
            return read();
        }
    }

    private void Locked(Action change)
    {
        lock (_gate)
        {
            change();
        }
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

