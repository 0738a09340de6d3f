namespace WalverBot.Discord.Models;

/// <summary>
/// A gateway dispatch turned into a typed record at the edge. Handle one with
/// <see cref="Gateway.IGatewayEventHandler{TEvent}"/>.
/// </summary>
public abstract record GatewayEvent
{
    /// <summary>The shard whose session delivered the event.</summary>
    public int ShardId { get; init; }
}

/// <summary>READY: a new session started (https://discord.com/developers/docs/topics/gateway-events#ready).</summary>
/// <param name="SessionId">Session id used to resume.</param>
/// <param name="ResumeGatewayUrl">The URL to resume this session on.</param>
/// <param name="User">The bot user.</param>
/// <param name="ApplicationId">The application id (used for interaction callbacks and command registration).</param>
/// <param name="GuildIds">Guilds of this shard; each arrives later as GUILD_CREATE.</param>
public sealed record ReadyEvent(string SessionId, string ResumeGatewayUrl, DiscordUser User, ulong ApplicationId, IReadOnlyList<ulong> GuildIds)
    : GatewayEvent;

/// <summary>GUILD_CREATE: a guild became available or the bot joined it.</summary>
/// <param name="Guild">The guild with its roles, channels and the members sent.</param>
public sealed record GuildCreateEvent(GatewayGuild Guild) : GatewayEvent;

/// <summary>GUILD_DELETE: the bot left (or was removed from) a guild, or the guild is in an outage.</summary>
/// <param name="GuildId">The guild.</param>
/// <param name="Unavailable">True during an outage (the bot is still a member); false when the bot was removed.</param>
public sealed record GuildDeleteEvent(ulong GuildId, bool Unavailable) : GatewayEvent;

/// <summary>GUILD_ROLE_CREATE.</summary>
/// <param name="GuildId">The guild.</param>
/// <param name="Role">The new role.</param>
public sealed record GuildRoleCreateEvent(ulong GuildId, DiscordRole Role) : GatewayEvent;

/// <summary>GUILD_ROLE_UPDATE (also sent for every role whose position moved).</summary>
/// <param name="GuildId">The guild.</param>
/// <param name="Role">The role as it is now.</param>
public sealed record GuildRoleUpdateEvent(ulong GuildId, DiscordRole Role) : GatewayEvent;

/// <summary>GUILD_ROLE_DELETE.</summary>
/// <param name="GuildId">The guild.</param>
/// <param name="RoleId">The deleted role.</param>
public sealed record GuildRoleDeleteEvent(ulong GuildId, ulong RoleId) : GatewayEvent;

/// <summary>GUILD_MEMBER_ADD: someone joined a guild (needs the GUILD_MEMBERS intent).</summary>
/// <param name="GuildId">The guild.</param>
/// <param name="Member">The new member.</param>
public sealed record GuildMemberAddEvent(ulong GuildId, GuildMember Member) : GatewayEvent;

/// <summary>GUILD_MEMBER_UPDATE: a member's roles, nickname or screening state changed.</summary>
/// <param name="GuildId">The guild.</param>
/// <param name="Member">The member as it is now.</param>
public sealed record GuildMemberUpdateEvent(ulong GuildId, GuildMember Member) : GatewayEvent;

/// <summary>GUILD_MEMBER_REMOVE: someone left, was kicked or banned.</summary>
/// <param name="GuildId">The guild.</param>
/// <param name="User">The user who left.</param>
public sealed record GuildMemberRemoveEvent(ulong GuildId, DiscordUser User) : GatewayEvent;

/// <summary>INTERACTION_CREATE: a slash command, button, autocomplete or modal submit. Answer within 3 seconds.</summary>
/// <param name="Interaction">The interaction.</param>
public sealed record InteractionCreateEvent(Interaction Interaction) : GatewayEvent;

/// <summary>
/// GUILD_MEMBERS_CHUNK: one part of the answer to a Request Guild Members (op 8)
/// (https://discord.com/developers/docs/events/gateway-events#guild-members-chunk).
/// </summary>
/// <param name="GuildId">The guild.</param>
/// <param name="Members">The members of this chunk (up to 1000).</param>
/// <param name="ChunkIndex">This chunk's index, 0 ≤ index &lt; <paramref name="ChunkCount"/>.</param>
/// <param name="ChunkCount">How many chunks answer the request.</param>
/// <param name="NotFound">Requested user ids that are not members of the guild.</param>
/// <param name="Nonce">The nonce of the request this chunk answers, when it sent one.</param>
public sealed record GuildMembersChunkEvent(
    ulong GuildId, IReadOnlyList<GuildMember> Members, int ChunkIndex, int ChunkCount, IReadOnlyList<ulong> NotFound, string? Nonce)
    : GatewayEvent;

/// <summary>
/// RATE_LIMITED: Discord refused a gateway request for its rate limit
/// (https://discord.com/developers/docs/events/gateway-events#rate-limited). For Request Guild Members (op 8) the
/// metadata names the guild and the request's nonce.
/// </summary>
/// <param name="Opcode">The opcode of the refused request (8 for Request Guild Members).</param>
/// <param name="RetryAfter">How long to wait before sending it again.</param>
/// <param name="GuildId">The guild of a refused op 8, when Discord says.</param>
/// <param name="Nonce">The nonce of a refused op 8, when it had one.</param>
public sealed record GatewayRateLimitedEvent(int Opcode, TimeSpan RetryAfter, ulong? GuildId, string? Nonce) : GatewayEvent;
