using System.Text.Json.Serialization;

namespace WalverBot.Discord.Models;

/// <summary>A guild as listed by <c>GET /users/@me/guilds</c> (https://discord.com/developers/docs/resources/user#get-current-user-guilds).</summary>
/// <param name="Id">Snowflake id.</param>
/// <param name="Name">Guild name.</param>
/// <param name="Icon">Icon hash, if any.</param>
/// <param name="Owner">True when the bot owns the guild.</param>
/// <param name="Permissions">The bot's permissions in the guild (excluding channel overwrites); null when the answer omits the field (unknown, not none).</param>
public sealed record PartialGuild(ulong Id, string Name, string? Icon = null, bool Owner = false, DiscordPermissions? Permissions = null);

/// <summary>A guild (https://discord.com/developers/docs/resources/guild#guild-object), the fields the bot reads.</summary>
/// <param name="Id">Snowflake id.</param>
/// <param name="Name">Guild name.</param>
/// <param name="OwnerId">The owner's user id.</param>
/// <param name="Roles">The guild's roles.</param>
/// <param name="Icon">Icon hash, if any.</param>
public sealed record DiscordGuild(ulong Id, string Name, ulong OwnerId, IReadOnlyList<DiscordRole> Roles, [property: JsonPropertyOrder(1)] string? Icon = null)
{
    /// <summary>The guild's roles; empty when the answer leaves them out.</summary>
    public IReadOnlyList<DiscordRole> Roles { get; init; } = Roles ?? [];
}

/// <summary>Channel types (https://discord.com/developers/docs/resources/channel#channel-object-channel-types).</summary>
public enum ChannelType
{
    /// <summary>GUILD_TEXT.</summary>
    GuildText = 0,
    /// <summary>DM.</summary>
    DirectMessage = 1,
    /// <summary>GUILD_VOICE.</summary>
    GuildVoice = 2,
    /// <summary>GROUP_DM.</summary>
    GroupDirectMessage = 3,
    /// <summary>GUILD_CATEGORY.</summary>
    GuildCategory = 4,
    /// <summary>GUILD_ANNOUNCEMENT.</summary>
    GuildAnnouncement = 5,
    /// <summary>ANNOUNCEMENT_THREAD.</summary>
    AnnouncementThread = 10,
    /// <summary>PUBLIC_THREAD.</summary>
    PublicThread = 11,
    /// <summary>PRIVATE_THREAD.</summary>
    PrivateThread = 12,
    /// <summary>GUILD_STAGE_VOICE.</summary>
    GuildStageVoice = 13,
    /// <summary>GUILD_DIRECTORY.</summary>
    GuildDirectory = 14,
    /// <summary>GUILD_FORUM.</summary>
    GuildForum = 15,
    /// <summary>GUILD_MEDIA.</summary>
    GuildMedia = 16,
}

/// <summary>A channel (https://discord.com/developers/docs/resources/channel#channel-object), the fields the bot reads.</summary>
/// <param name="Id">Snowflake id.</param>
/// <param name="Type">Channel type.</param>
/// <param name="GuildId">The guild, absent for DMs.</param>
/// <param name="Name">Channel name.</param>
/// <param name="Position">Sorting position.</param>
/// <param name="ParentId">The category (or, for threads, the parent channel).</param>
/// <param name="PermissionOverwrites">Explicit permission overwrites for members and roles.</param>
public sealed record DiscordChannel(
    [property: JsonRequired] ulong Id,
    ChannelType Type,
    ulong? GuildId = null,
    string? Name = null,
    int? Position = null,
    ulong? ParentId = null,
    IReadOnlyList<PermissionOverwrite>? PermissionOverwrites = null)
{
    /// <summary>True for channel types that take ordinary messages (text and announcement channels).</summary>
    public bool IsTextChannel => Type is ChannelType.GuildText or ChannelType.GuildAnnouncement;
}

/// <summary>Whether a permission overwrite targets a role or a member.</summary>
public enum PermissionOverwriteType
{
    /// <summary>The overwrite applies to a role.</summary>
    Role = 0,
    /// <summary>The overwrite applies to a member.</summary>
    Member = 1,
}

/// <summary>A channel permission overwrite (https://discord.com/developers/docs/resources/channel#overwrite-object).</summary>
/// <param name="Id">Role or user id.</param>
/// <param name="Type">Role or member.</param>
/// <param name="Allow">Permissions granted.</param>
/// <param name="Deny">Permissions denied.</param>
public sealed record PermissionOverwrite(ulong Id, PermissionOverwriteType Type, DiscordPermissions Allow, DiscordPermissions Deny);
