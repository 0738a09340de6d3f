using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// Turns the <c>d</c> of a dispatch into a typed <see cref="GatewayEvent"/>: reads it into the event's payload record
/// through <see cref="DiscordJsonContext"/> (the same models and converters REST uses) and maps that to the public event.
/// A missing optional field becomes null or empty; a missing id makes the event unreadable (a <see cref="JsonException"/>
/// the dispatcher logs before skipping the event).
/// </summary>
internal static class GatewayEventParser
{
    private static DiscordJsonContext Json => DiscordJsonContext.Default;

    /// <summary>The typed event, or null for dispatches the client does not model.</summary>
    public static GatewayEvent? Parse(string eventName, JsonElement d) => eventName switch
    {
        "READY" => ToEvent(Read(d, Json.ReadyData)),
        // Docs (guild#unavailable-guild-object): a guild in an outage arrives as {id, unavailable: true} only; it becomes
        // usable with a later GUILD_CREATE.
        "GUILD_CREATE" => Read(d, Json.GuildCreateData) is { Unavailable: false } guild ? new GuildCreateEvent(ToGuild(guild)) : null,
        "GUILD_DELETE" => Map(Read(d, Json.GuildReference), g => new GuildDeleteEvent(g.Id, g.Unavailable)),
        "GUILD_ROLE_CREATE" => Map(Read(d, Json.GuildRoleData), r => new GuildRoleCreateEvent(r.GuildId, r.Role)),
        "GUILD_ROLE_UPDATE" => Map(Read(d, Json.GuildRoleData), r => new GuildRoleUpdateEvent(r.GuildId, r.Role)),
        "GUILD_ROLE_DELETE" => Map(Read(d, Json.GuildRoleDeleteData), r => new GuildRoleDeleteEvent(r.GuildId, r.RoleId)),
        "GUILD_MEMBER_ADD" => Map(Read(d, Json.GuildMemberData), m => new GuildMemberAddEvent(m.GuildId, m.ToMember())),
        "GUILD_MEMBER_UPDATE" => Map(Read(d, Json.GuildMemberData), m => new GuildMemberUpdateEvent(m.GuildId, m.ToMember())),
        "GUILD_MEMBER_REMOVE" => Map(Read(d, Json.GuildMemberRemoveData), m => new GuildMemberRemoveEvent(m.GuildId, m.User)),
        "INTERACTION_CREATE" => new InteractionCreateEvent(ToInteraction(Read(d, Json.InteractionCreateData))),
        "GUILD_MEMBERS_CHUNK" => Map(Read(d, Json.GuildMembersChunkData), c =>
            new GuildMembersChunkEvent(c.GuildId, c.Members ?? [], c.ChunkIndex, c.ChunkCount, c.NotFound ?? [], c.Nonce)),
        // Docs (events/gateway-events#rate-limited): retry_after is in seconds; a negative or absurd value waits the documented 30 s.
        "RATE_LIMITED" => Map(Read(d, Json.RateLimitedData), r => new GatewayRateLimitedEvent(
            r.Opcode, double.IsFinite(r.RetryAfter) && r.RetryAfter is >= 0 and <= 3600 ? TimeSpan.FromSeconds(r.RetryAfter) : TimeSpan.FromSeconds(30), r.Meta?.GuildId, r.Meta?.Nonce)),
        _ => null,
    };

    private static GatewayEvent Map<TData>(TData data, Func<TData, GatewayEvent> toEvent) => toEvent(data);

    /// <summary>Reads <paramref name="d"/> as <typeparamref name="T"/>; a null <c>d</c> is unreadable.</summary>
    public static T Read<T>(JsonElement d, JsonTypeInfo<T> typeInfo) =>
        d.ValueKind == JsonValueKind.Object
            ? d.Deserialize(typeInfo) ?? throw new JsonException($"{typeof(T).Name} was null.")
            : throw new JsonException($"Expected an object for {typeof(T).Name}, got {d.ValueKind}.");

    private static ReadyEvent ToEvent(ReadyData ready) => new(
        ready.SessionId, ready.ResumeGatewayUrl, ready.User, ready.Application.Id, [.. (ready.Guilds ?? []).Select(g => g.Id)]);

    private static GatewayGuild ToGuild(GuildCreateData g) => new(
        g.Id, g.Name ?? "", g.OwnerId ?? 0, g.Roles ?? [], g.Members ?? [], g.Channels ?? [], g.MemberCount);

    private static Interaction ToInteraction(InteractionCreateData i) => new(
        i.Id,
        i.ApplicationId,
        i.Type,
        i.Data is { } data ? ToData(data) : null,
        i.GuildId,
        i.ChannelId,
        i.Member is { } member
            ? new InteractionMember(new GuildMember(member.User, member.Nick, member.Roles ?? [], member.Pending), member.Permissions ?? DiscordPermissions.None)
            : null,
        i.User,
        i.Token ?? "",
        i.Locale,
        i.GuildLocale,
        i.AppPermissions);

    private static InteractionData ToData(InteractionCommandData d) => new(
        d.Id, d.Name, d.Type, [.. (d.Options ?? []).Select(ToOption)], d.Resolved is { } resolved ? ToResolved(resolved) : null,
        d.CustomId, d.ComponentType, d.Values ?? [], d.TargetId);

    private static InteractionOption ToOption(InteractionOptionData o) =>
        new(o.Name ?? "", o.Type, o.Value, [.. (o.Options ?? []).Select(ToOption)], o.Focused);

    private static InteractionResolved ToResolved(InteractionResolvedData r)
    {
        var users = r.Users ?? [];
        // Docs (receiving-and-responding#interaction-object-resolved-data-structure): resolved members leave out user,
        // which is under "users" with the same id; a member without its user cannot be used.
        var members = (r.Members ?? [])
            .Where(m => users.ContainsKey(m.Key))
            .ToDictionary(m => m.Key, m => new GuildMember(users[m.Key], m.Value.Nick, m.Value.Roles ?? [], m.Value.Pending));
        return new InteractionResolved(users, members, r.Roles ?? [], r.Channels ?? []);
    }
}
