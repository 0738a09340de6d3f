using System.Globalization;
using System.Text.Json;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// Turns the <c>d</c> of a dispatch into a typed <see cref="GatewayEvent"/>. Discord sends snowflakes and
/// permission sets as strings and leaves out fields freely, so the reading is tolerant: a missing optional
/// field becomes null or empty; a missing id makes the event unreadable (an exception the dispatcher logs).
/// </summary>
internal static class GatewayEventParser
{
    /// <summary>The typed event, or null for dispatches the bot does not use.</summary>
    public static GatewayEvent? Parse(string eventName, JsonElement d) => eventName switch
    {
        "READY" => new ReadyEvent(
            d.GetProperty("session_id").GetString()!,
            d.GetProperty("resume_gateway_url").GetString()!,
            ReadUser(d.GetProperty("user")),
            Snowflake(d.GetProperty("application").GetProperty("id")),
            Array(d, "guilds").Select(g => Snowflake(g.GetProperty("id"))).ToList()),
        // A guild in an outage arrives as {id, unavailable: true} only; it becomes usable with a later GUILD_CREATE.
        "GUILD_CREATE" => Bool(d, "unavailable") ? null : new GuildCreateEvent(ReadGuild(d)),
        "GUILD_DELETE" => new GuildDeleteEvent(Snowflake(d.GetProperty("id")), Bool(d, "unavailable")),
        "GUILD_ROLE_CREATE" => new GuildRoleCreateEvent(Snowflake(d.GetProperty("guild_id")), ReadRole(d.GetProperty("role"))),
        "GUILD_ROLE_UPDATE" => new GuildRoleUpdateEvent(Snowflake(d.GetProperty("guild_id")), ReadRole(d.GetProperty("role"))),
        "GUILD_ROLE_DELETE" => new GuildRoleDeleteEvent(Snowflake(d.GetProperty("guild_id")), Snowflake(d.GetProperty("role_id"))),
        "GUILD_MEMBER_ADD" => new GuildMemberAddEvent(Snowflake(d.GetProperty("guild_id")), ReadMember(d)),
        "GUILD_MEMBER_UPDATE" => new GuildMemberUpdateEvent(Snowflake(d.GetProperty("guild_id")), ReadMember(d)),
        "GUILD_MEMBER_REMOVE" => new GuildMemberRemoveEvent(Snowflake(d.GetProperty("guild_id")), ReadUser(d.GetProperty("user"))),
        "INTERACTION_CREATE" => new InteractionCreateEvent(ReadInteraction(d)),
        "GUILD_MEMBERS_CHUNK" => new GuildMembersChunkEvent(
            Snowflake(d.GetProperty("guild_id")),
            Array(d, "members").Select(ReadMember).ToList(),
            d.GetProperty("chunk_index").GetInt32(),
            d.GetProperty("chunk_count").GetInt32(),
            Array(d, "not_found").Select(Snowflake).ToList(),
            String(d, "nonce")),
        _ => null,
    };

    public static DiscordUser ReadUser(JsonElement u) => new(
        Snowflake(u.GetProperty("id")),
        String(u, "username") ?? "",
        String(u, "discriminator") ?? "0",
        String(u, "global_name"),
        Bool(u, "bot"));

    public static GuildMember ReadMember(JsonElement m) => ReadMember(m, ReadUser(m.GetProperty("user")));

    private static GuildMember ReadMember(JsonElement m, DiscordUser user) => new(
        user,
        String(m, "nick"),
        Array(m, "roles").Select(Snowflake).ToList(),
        Bool(m, "pending"));

    public static DiscordRole ReadRole(JsonElement r) => new(
        Snowflake(r.GetProperty("id")),
        String(r, "name") ?? "",
        r.TryGetProperty("position", out var position) ? position.GetInt32() : 0,
        Permissions(r, "permissions") ?? DiscordPermissions.None,
        Bool(r, "managed"));

    public static DiscordChannel ReadChannel(JsonElement c) => new(
        Snowflake(c.GetProperty("id")),
        c.TryGetProperty("type", out var type) ? (ChannelType)type.GetInt32() : ChannelType.GuildText,
        OptionalSnowflake(c, "guild_id"),
        String(c, "name"),
        c.TryGetProperty("position", out var position) && position.ValueKind == JsonValueKind.Number ? position.GetInt32() : 0,
        OptionalSnowflake(c, "parent_id"));

    public static GatewayGuild ReadGuild(JsonElement g) => new(
        Snowflake(g.GetProperty("id")),
        String(g, "name") ?? "",
        OptionalSnowflake(g, "owner_id") ?? 0,
        Array(g, "roles").Select(ReadRole).ToList(),
        Array(g, "members").Select(ReadMember).ToList(),
        Array(g, "channels").Select(ReadChannel).ToList(),
        g.TryGetProperty("member_count", out var count) && count.ValueKind == JsonValueKind.Number ? count.GetInt32() : null);

    public static Interaction ReadInteraction(JsonElement i) => new(
        Snowflake(i.GetProperty("id")),
        Snowflake(i.GetProperty("application_id")),
        (InteractionType)i.GetProperty("type").GetInt32(),
        i.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object ? ReadInteractionData(data) : null,
        OptionalSnowflake(i, "guild_id"),
        OptionalSnowflake(i, "channel_id"),
        i.TryGetProperty("member", out var member) && member.ValueKind == JsonValueKind.Object
            ? new InteractionMember(ReadMember(member), Permissions(member, "permissions") ?? DiscordPermissions.None)
            : null,
        i.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.Object ? ReadUser(user) : null,
        String(i, "token") ?? "",
        String(i, "locale"),
        String(i, "guild_locale"),
        Permissions(i, "app_permissions"));

    private static InteractionData ReadInteractionData(JsonElement d) => new(
        OptionalSnowflake(d, "id"),
        String(d, "name"),
        d.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.Number ? type.GetInt32() : null,
        Array(d, "options").Select(ReadOption).ToList(),
        d.TryGetProperty("resolved", out var resolved) && resolved.ValueKind == JsonValueKind.Object ? ReadResolved(resolved) : null,
        String(d, "custom_id"),
        d.TryGetProperty("component_type", out var componentType) && componentType.ValueKind == JsonValueKind.Number ? componentType.GetInt32() : null,
        Array(d, "values").Select(v => v.ToString()).ToList(),
        OptionalSnowflake(d, "target_id"));

    private static InteractionOption ReadOption(JsonElement o) => new(
        String(o, "name") ?? "",
        (ApplicationCommandOptionType)o.GetProperty("type").GetInt32(),
        o.TryGetProperty("value", out var value) ? ValueText(value) : null,
        Array(o, "options").Select(ReadOption).ToList(),
        Bool(o, "focused"));

    private static string? ValueText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    private static InteractionResolved ReadResolved(JsonElement r)
    {
        var users = Object(r, "users").ToDictionary(p => Snowflake(p.Name), p => ReadUser(p.Value));
        // Resolved members are partial: their user lives in "users" under the same id.
        var members = Object(r, "members")
            .Where(p => users.ContainsKey(Snowflake(p.Name)))
            .ToDictionary(p => Snowflake(p.Name), p => ReadMember(p.Value, users[Snowflake(p.Name)]));
        var roles = Object(r, "roles").ToDictionary(p => Snowflake(p.Name), p => ReadRole(p.Value));
        var channels = Object(r, "channels").ToDictionary(p => Snowflake(p.Name), p => ReadChannel(p.Value));
        return new InteractionResolved(users, members, roles, channels);
    }

    private static ulong Snowflake(JsonElement e) => e.ValueKind == JsonValueKind.Number
        ? e.GetUInt64()
        : Snowflake(e.GetString());

    private static ulong Snowflake(string? text) => ulong.Parse(text ?? "", NumberStyles.None, CultureInfo.InvariantCulture);

    private static ulong? OptionalSnowflake(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.String or JsonValueKind.Number ? Snowflake(v) : null;

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Bool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    // Permission sets are decimal strings because they outgrow 53-bit JSON numbers.
    private static DiscordPermissions? Permissions(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            && ulong.TryParse(v.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var bits)
            ? (DiscordPermissions)bits
            : null;

    private static IEnumerable<JsonElement> Array(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : [];

    private static IEnumerable<JsonProperty> Object(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v.EnumerateObject() : [];
}
