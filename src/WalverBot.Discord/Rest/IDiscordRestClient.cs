using WalverBot.Discord.Models;

namespace WalverBot.Discord.Rest;

/// <summary>
/// The Discord REST calls the bot makes. Every call is authenticated, rate limited (waiting before
/// sending when a bucket is empty) and throws <see cref="DiscordRestException"/> when Discord refuses.
/// </summary>
public interface IDiscordRestClient
{
    /// <summary><c>GET /users/@me</c>: the bot's own user.</summary>
    Task<DiscordUser> GetCurrentUserAsync(CancellationToken cancellationToken);

    /// <summary><c>GET /gateway/bot</c>: the gateway URL, recommended shards and session start limit.</summary>
    Task<GatewayBotInfo> GetGatewayBotAsync(CancellationToken cancellationToken);

    /// <summary><c>GET /guilds/{guild}/members/{user}</c>; null when Discord answers Unknown Member (10007) or Unknown User (10013).</summary>
    Task<GuildMember?> GetGuildMemberAsync(ulong guildId, ulong userId, CancellationToken cancellationToken);

    /// <summary><c>GET /guilds/{guild}/members/search?query=…&amp;limit=…</c>: members whose username or nickname starts with the query.</summary>
    Task<IReadOnlyList<GuildMember>> SearchGuildMembersAsync(ulong guildId, string query, int limit, CancellationToken cancellationToken);

    /// <summary><c>GET /guilds/{guild}/roles</c>.</summary>
    Task<IReadOnlyList<DiscordRole>> GetGuildRolesAsync(ulong guildId, CancellationToken cancellationToken);

    /// <summary><c>PUT /guilds/{guild}/members/{user}/roles/{role}</c> with an <c>X-Audit-Log-Reason</c>.</summary>
    Task AddGuildMemberRoleAsync(ulong guildId, ulong userId, ulong roleId, string? auditLogReason, CancellationToken cancellationToken);

    /// <summary><c>DELETE /guilds/{guild}/members/{user}/roles/{role}</c> with an <c>X-Audit-Log-Reason</c>.</summary>
    Task RemoveGuildMemberRoleAsync(ulong guildId, ulong userId, ulong roleId, string? auditLogReason, CancellationToken cancellationToken);
}
