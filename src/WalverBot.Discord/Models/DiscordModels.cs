using System.Text.Json.Serialization;

namespace WalverBot.Discord.Models;

/// <summary>A Discord user (https://discord.com/developers/docs/resources/user#user-object).</summary>
/// <param name="Id">Snowflake id.</param>
/// <param name="Username">Unique username (lower case for migrated accounts).</param>
/// <param name="Discriminator">"0" for migrated accounts, otherwise the legacy four digits.</param>
/// <param name="GlobalName">Display name, never used to match members.</param>
/// <param name="Bot">Whether the account is a bot.</param>
public sealed record DiscordUser([property: JsonRequired, JsonPropertyOrder(-2)] ulong Id, string Username, string? Discriminator = "0", string? GlobalName = null, bool Bot = false)
{
    /// <summary>Unique username; empty when a payload leaves it out.</summary>
    [JsonPropertyOrder(-1)]
    public string Username { get; init; } = Username ?? "";
}

/// <summary>A member of a guild (https://discord.com/developers/docs/resources/guild#guild-member-object).</summary>
/// <param name="User">The user behind the membership.</param>
/// <param name="Nick">Guild nickname, never used to match members.</param>
/// <param name="Roles">Role ids the member holds (the @everyone role is implied, not listed).</param>
/// <param name="Pending">True while the member has not passed membership screening.</param>
public sealed record GuildMember([property: JsonRequired] DiscordUser User, string? Nick, IReadOnlyList<ulong> Roles, [property: JsonPropertyOrder(1)] bool Pending = false)
{
    /// <summary>Role ids the member holds; empty when a payload leaves them out.</summary>
    public IReadOnlyList<ulong> Roles { get; init; } = Roles ?? [];
}

/// <summary>A guild role (https://discord.com/developers/docs/topics/permissions#role-object).</summary>
/// <param name="Id">Snowflake id; the @everyone role has the guild's id.</param>
/// <param name="Name">Role name.</param>
/// <param name="Position">Position in the hierarchy; higher is more powerful.</param>
/// <param name="Permissions">Permission bit set.</param>
/// <param name="Managed">True for roles owned by an integration (bot roles, boosters) that cannot be assigned.</param>
public sealed record DiscordRole([property: JsonRequired, JsonPropertyOrder(-2)] ulong Id, string Name, int Position, DiscordPermissions Permissions, bool Managed)
{
    /// <summary>Role name; empty when a payload leaves it out.</summary>
    [JsonPropertyOrder(-1)]
    public string Name { get; init; } = Name ?? "";
}

/// <summary>Answer of <c>GET /gateway/bot</c>.</summary>
public sealed record GatewayBotInfo(string Url, int Shards, SessionStartLimit SessionStartLimit);

/// <summary>How many IDENTIFY calls the bot may still make, and how fast.</summary>
/// <param name="Total">Identifies allowed per reset period.</param>
/// <param name="Remaining">Identifies left in this period.</param>
/// <param name="ResetAfter">Milliseconds until the limit resets.</param>
/// <param name="MaxConcurrency">How many shards may identify per 5 seconds.</param>
public sealed record SessionStartLimit(int Total, int Remaining, long ResetAfter, int MaxConcurrency);

/// <summary>Permission bits used by the bot (https://discord.com/developers/docs/topics/permissions).</summary>
[Flags]
public enum DiscordPermissions : ulong
{
    /// <summary>No permission.</summary>
    None = 0,
    /// <summary>CREATE_INSTANT_INVITE.</summary>
    CreateInstantInvite = 1UL << 0,
    /// <summary>KICK_MEMBERS.</summary>
    KickMembers = 1UL << 1,
    /// <summary>BAN_MEMBERS.</summary>
    BanMembers = 1UL << 2,
    /// <summary>ADMINISTRATOR: every permission, bypassing channel overwrites.</summary>
    Administrator = 1UL << 3,
    /// <summary>MANAGE_CHANNELS.</summary>
    ManageChannels = 1UL << 4,
    /// <summary>MANAGE_GUILD.</summary>
    ManageGuild = 1UL << 5,
    /// <summary>VIEW_CHANNEL.</summary>
    ViewChannel = 1UL << 10,
    /// <summary>SEND_MESSAGES.</summary>
    SendMessages = 1UL << 11,
    /// <summary>EMBED_LINKS.</summary>
    EmbedLinks = 1UL << 14,
    /// <summary>MENTION_EVERYONE.</summary>
    MentionEveryone = 1UL << 17,
    /// <summary>MANAGE_NICKNAMES.</summary>
    ManageNicknames = 1UL << 27,
    /// <summary>MANAGE_ROLES.</summary>
    ManageRoles = 1UL << 28,
    /// <summary>MANAGE_WEBHOOKS.</summary>
    ManageWebhooks = 1UL << 29,
    /// <summary>MODERATE_MEMBERS (timeouts).</summary>
    ModerateMembers = 1UL << 40,
}
