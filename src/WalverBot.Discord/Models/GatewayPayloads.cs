using System.Text.Json;
using System.Text.Json.Serialization;
using WalverBot.Discord.Gateway;

namespace WalverBot.Discord.Models;

// The gateway's wire shapes (https://discord.com/developers/docs/events/gateway-events), read and written through
// DiscordJsonContext like every REST model. Each dispatch's "d" is read into its payload record here and mapped to the
// public GatewayEvent records by Gateway/GatewayEventParser. Discord adds fields and sends nulls freely: everything not
// needed to identify the entity is optional, unknown fields are ignored, and an id that is missing fails the read
// ([JsonRequired]) so the dispatch is skipped rather than handled with id 0.

/// <summary>A gateway payload as received: opcode, data, sequence and event name (https://discord.com/developers/docs/events/gateway-events#payload-structure).</summary>
internal sealed record GatewayPayload([property: JsonRequired] int Op, JsonElement D = default, long? S = null, string? T = null);

/// <summary>A payload the client sends; <c>d</c> is written even when null (a first heartbeat sends <c>"d": null</c>).</summary>
internal sealed record GatewayCommand<TData>(int Op, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] TData D);

/// <summary>HELLO (op 10).</summary>
internal sealed record HelloData([property: JsonRequired] double HeartbeatInterval);

/// <summary>IDENTIFY (op 2).</summary>
internal sealed record IdentifyData(string Token, IdentifyProperties Properties, GatewayIntents Intents, IReadOnlyList<int> Shard)
{
    /// <summary>Keeps the token out of logs.</summary>
    public override string ToString() => $"IdentifyData {{ Intents = {Intents}, Shard = [{string.Join(", ", Shard)}] }}";
}

/// <summary>RESUME (op 6).</summary>
internal sealed record ResumeData(string Token, string SessionId, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? Seq)
{
    /// <summary>Keeps the token out of logs.</summary>
    public override string ToString() => $"ResumeData {{ SessionId = {SessionId}, Seq = {Seq} }}";
}

/// <summary>Request Guild Members (op 8): either <c>user_ids</c> or <c>query</c> with <c>limit</c>.</summary>
internal sealed record RequestGuildMembersData(ulong GuildId, string Nonce, IReadOnlyList<ulong>? UserIds = null, string? Query = null, int? Limit = null);

/// <summary>READY's data, the fields the client reads.</summary>
internal sealed record ReadyData(
    [property: JsonRequired] string SessionId,
    [property: JsonRequired] string ResumeGatewayUrl,
    [property: JsonRequired] DiscordUser User,
    [property: JsonRequired] ApplicationReference Application,
    IReadOnlyList<GuildReference>? Guilds);

/// <summary>A partial application object: its id.</summary>
internal sealed record ApplicationReference([property: JsonRequired] ulong Id);

/// <summary>A guild by id, as READY lists them and GUILD_DELETE sends them (unavailable during an outage).</summary>
internal sealed record GuildReference([property: JsonRequired] ulong Id, bool Unavailable = false);

/// <summary>GUILD_CREATE's data: a guild with its roles, members and channels, or only <c>{id, unavailable: true}</c> in an outage.</summary>
internal sealed record GuildCreateData(
    [property: JsonRequired] ulong Id,
    string? Name = null,
    ulong? OwnerId = null,
    IReadOnlyList<DiscordRole>? Roles = null,
    IReadOnlyList<GuildMember>? Members = null,
    IReadOnlyList<DiscordChannel>? Channels = null,
    int? MemberCount = null,
    bool Unavailable = false);

/// <summary>GUILD_ROLE_CREATE and GUILD_ROLE_UPDATE.</summary>
internal sealed record GuildRoleData([property: JsonRequired] ulong GuildId, [property: JsonRequired] DiscordRole Role);

/// <summary>GUILD_ROLE_DELETE.</summary>
internal sealed record GuildRoleDeleteData([property: JsonRequired] ulong GuildId, [property: JsonRequired] ulong RoleId);

/// <summary>GUILD_MEMBER_ADD and GUILD_MEMBER_UPDATE: a guild member with the guild's id.</summary>
internal sealed record GuildMemberData(
    [property: JsonRequired] ulong GuildId,
    [property: JsonRequired] DiscordUser User,
    string? Nick = null,
    IReadOnlyList<ulong>? Roles = null,
    bool Pending = false)
{
    public GuildMember ToMember() => new(User, Nick, Roles ?? [], Pending);
}

/// <summary>GUILD_MEMBER_REMOVE.</summary>
internal sealed record GuildMemberRemoveData([property: JsonRequired] ulong GuildId, [property: JsonRequired] DiscordUser User);

/// <summary>GUILD_MEMBERS_CHUNK.</summary>
internal sealed record GuildMembersChunkData(
    [property: JsonRequired] ulong GuildId,
    IReadOnlyList<GuildMember>? Members,
    [property: JsonRequired] int ChunkIndex,
    [property: JsonRequired] int ChunkCount,
    IReadOnlyList<ulong>? NotFound = null,
    string? Nonce = null);

/// <summary>RATE_LIMITED's data: the refused opcode, seconds to wait and, for op 8, the guild and nonce.</summary>
internal sealed record RateLimitedData([property: JsonRequired] int Opcode, [property: JsonRequired] double RetryAfter, RateLimitedMeta? Meta = null);

/// <summary>RATE_LIMITED's <c>meta</c> for Request Guild Members.</summary>
internal sealed record RateLimitedMeta(ulong? GuildId = null, string? Nonce = null);

/// <summary>INTERACTION_CREATE's data (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object).</summary>
internal sealed record InteractionCreateData(
    [property: JsonRequired] ulong Id,
    [property: JsonRequired] ulong ApplicationId,
    [property: JsonRequired] InteractionType Type,
    InteractionCommandData? Data = null,
    ulong? GuildId = null,
    ulong? ChannelId = null,
    InteractionMemberData? Member = null,
    DiscordUser? User = null,
    string? Token = null,
    string? Locale = null,
    string? GuildLocale = null,
    DiscordPermissions? AppPermissions = null);

/// <summary>An interaction's member: a guild member with <c>permissions</c> in the channel.</summary>
internal sealed record InteractionMemberData(
    [property: JsonRequired] DiscordUser User,
    string? Nick = null,
    IReadOnlyList<ulong>? Roles = null,
    bool Pending = false,
    DiscordPermissions? Permissions = null);

/// <summary>The <c>data</c> of a command, component or modal interaction.</summary>
internal sealed record InteractionCommandData(
    ulong? Id = null,
    string? Name = null,
    int? Type = null,
    IReadOnlyList<InteractionOptionData>? Options = null,
    InteractionResolvedData? Resolved = null,
    string? CustomId = null,
    int? ComponentType = null,
    IReadOnlyList<string>? Values = null,
    ulong? TargetId = null);

/// <summary>A command option as sent: <c>value</c> is a string, a number or a boolean depending on the option's type.</summary>
internal sealed record InteractionOptionData(
    string? Name,
    [property: JsonRequired] ApplicationCommandOptionType Type,
    [property: JsonConverter(typeof(OptionValueJsonConverter))] string? Value = null,
    IReadOnlyList<InteractionOptionData>? Options = null,
    bool Focused = false);

/// <summary>Resolved entities by id; members are partial (their user is under <c>users</c>).</summary>
internal sealed record InteractionResolvedData(
    Dictionary<ulong, DiscordUser>? Users = null,
    Dictionary<ulong, PartialMemberData>? Members = null,
    Dictionary<ulong, DiscordRole>? Roles = null,
    Dictionary<ulong, DiscordChannel>? Channels = null);

/// <summary>A resolved member without its user.</summary>
internal sealed record PartialMemberData(string? Nick = null, IReadOnlyList<ulong>? Roles = null, bool Pending = false);

/// <summary>
/// An option value as text: strings as given, numbers as written (no rounding through double), booleans as true/false.
/// </summary>
internal sealed class OptionValueJsonConverter : JsonConverter<string?>
{
    public override bool HandleNull => true;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.Number:
                return System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan);
            case JsonTokenType.True:
                return "true";
            case JsonTokenType.False:
                return "false";
            default:
                // null, or a shape no documented option type has: no value rather than an unreadable interaction.
                reader.Skip();
                return null;
        }
    }

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }
}
