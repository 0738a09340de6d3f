namespace WalverBot.Discord.Models;

/// <summary>A guild as sent in GUILD_CREATE (https://discord.com/developers/docs/resources/guild#guild-object).</summary>
/// <param name="Id">Snowflake id; also the id of the @everyone role.</param>
/// <param name="Name">Guild name.</param>
/// <param name="OwnerId">The owner's user id.</param>
/// <param name="Roles">Every role of the guild, @everyone included.</param>
/// <param name="Members">The members Discord sent (at least the bot itself; all members of small guilds).</param>
/// <param name="Channels">The guild's channels.</param>
/// <param name="MemberCount">Total members, when sent.</param>
public sealed record GatewayGuild(
    ulong Id,
    string Name,
    ulong OwnerId,
    IReadOnlyList<DiscordRole> Roles,
    IReadOnlyList<GuildMember> Members,
    IReadOnlyList<DiscordChannel> Channels,
    int? MemberCount);

/// <summary>
/// IDENTIFY's connection properties (https://discord.com/developers/docs/events/gateway-events#identify-identify-connection-properties).
/// </summary>
/// <param name="Os">The operating system.</param>
/// <param name="Browser">The library or application name.</param>
/// <param name="Device">The library or application name.</param>
public sealed record IdentifyProperties(string Os, string Browser, string Device);
