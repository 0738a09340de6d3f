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

    /// <summary><c>GET /users/@me/guilds</c>: every guild the bot is in (pages of 200 are fetched until the end).</summary>
    Task<IReadOnlyList<PartialGuild>> GetCurrentUserGuildsAsync(CancellationToken cancellationToken);

    /// <summary><c>GET /guilds/{guild}</c>.</summary>
    Task<DiscordGuild> GetGuildAsync(ulong guildId, CancellationToken cancellationToken);

    /// <summary><c>GET /guilds/{guild}/channels</c>: the guild's channels (threads excluded).</summary>
    Task<IReadOnlyList<DiscordChannel>> GetGuildChannelsAsync(ulong guildId, CancellationToken cancellationToken);

    /// <summary><c>GET /channels/{channel}</c>.</summary>
    Task<DiscordChannel> GetChannelAsync(ulong channelId, CancellationToken cancellationToken);

    /// <summary><c>POST /channels/{channel}/messages</c>: posts a message (e.g. with a link button).</summary>
    Task<DiscordMessage> CreateMessageAsync(ulong channelId, MessageCreate message, CancellationToken cancellationToken);

    /// <summary>
    /// <c>POST /interactions/{interaction}/{token}/callback</c>: the first answer to an interaction, due within 3 s.
    /// Exempt from the global rate limit. The token is never logged.
    /// </summary>
    Task CreateInteractionResponseAsync(ulong interactionId, string interactionToken, InteractionResponse response, CancellationToken cancellationToken);

    /// <summary><c>PATCH /webhooks/{application}/{token}/messages/@original</c>: edits the (deferred) first answer.</summary>
    Task<DiscordMessage> EditOriginalInteractionResponseAsync(ulong applicationId, string interactionToken, MessageEdit edit, CancellationToken cancellationToken);

    /// <summary><c>POST /webhooks/{application}/{token}</c>: a follow-up message (within the token's 15 minutes).</summary>
    Task<DiscordMessage> CreateFollowupMessageAsync(ulong applicationId, string interactionToken, MessageCreate message, CancellationToken cancellationToken);

    /// <summary>
    /// Sends a follow-up message to an interaction with files attached, as multipart/form-data: the message in
    /// <c>payload_json</c> with an <c>attachments</c> entry per file, and each file as <c>files[n]</c>
    /// (https://discord.com/developers/docs/reference#uploading-files).
    /// </summary>
    Task<DiscordMessage> CreateFollowupMessageWithFilesAsync(ulong applicationId, string interactionToken, MessageCreate message, IReadOnlyList<FileUpload> files, CancellationToken cancellationToken);

    /// <summary><c>PUT /applications/{application}/commands</c>: replaces all global commands; returns them as registered.</summary>
    Task<IReadOnlyList<ApplicationCommand>> BulkOverwriteGlobalApplicationCommandsAsync(ulong applicationId, IReadOnlyList<ApplicationCommand> commands, CancellationToken cancellationToken);

    /// <summary><c>PUT /applications/{application}/guilds/{guild}/commands</c>: replaces one guild's commands; returns them as registered.</summary>
    Task<IReadOnlyList<ApplicationCommand>> BulkOverwriteGuildApplicationCommandsAsync(ulong applicationId, ulong guildId, IReadOnlyList<ApplicationCommand> commands, CancellationToken cancellationToken);
}
