namespace WalverBot.Discord.Models;

/// <summary>A guild channel as sent in GUILD_CREATE (https://discord.com/developers/docs/resources/channel#channel-object).</summary>
/// <param name="Id">Snowflake id.</param>
/// <param name="Type">Channel type (0 text, 2 voice, 4 category, 5 announcement, 15 forum, …).</param>
/// <param name="Name">Channel name.</param>
/// <param name="Position">Sorting position.</param>
/// <param name="ParentId">The category the channel sits in, if any.</param>
public sealed record DiscordChannel(ulong Id, int Type, string? Name, int Position, ulong? ParentId)
{
    /// <summary>GUILD_TEXT: a channel where the bot can post messages.</summary>
    public const int GuildText = 0;

    /// <summary>GUILD_ANNOUNCEMENT.</summary>
    public const int GuildAnnouncement = 5;

    /// <summary>True for channel types that take ordinary messages (text and announcement channels).</summary>
    public bool IsTextChannel => Type is GuildText or GuildAnnouncement;
}

/// <summary>A guild as sent in GUILD_CREATE (https://discord.com/developers/docs/resources/guild#guild-object).</summary>
/// <param name="Id">Snowflake id; also the id of the @everyone role.</param>
/// <param name="Name">Guild name.</param>
/// <param name="OwnerId">The owner's user id.</param>
/// <param name="Roles">Every role of the guild, @everyone included.</param>
/// <param name="Members">The members Discord sent (at least the bot itself; all members of small guilds).</param>
/// <param name="Channels">The guild's channels.</param>
/// <param name="MemberCount">Total members, when sent.</param>
public sealed record DiscordGuild(
    ulong Id,
    string Name,
    ulong OwnerId,
    IReadOnlyList<DiscordRole> Roles,
    IReadOnlyList<GuildMember> Members,
    IReadOnlyList<DiscordChannel> Channels,
    int? MemberCount);
