using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;

namespace WalverBot.Commands;

/// <summary><c>/walver log-channel</c>: where notices go; checked by posting a first notice before it is saved.</summary>
public sealed class LogChannelHandler(CommandStore store, GuildDirectory guilds, IDiscordRestClient discord, ILogger<LogChannelHandler> logger) : ICommandHandler<LogChannelCommand>
{
    public async Task<Reply> HandleAsync(LogChannelCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken)
    {
        if (command.ChannelId is not { } channelId)
        {
            await store.SetLogChannelAsync(context.GuildId, null, cancellationToken);
            return new Reply("Log channel notices are turned off. Decisions stay visible with `/walver status`.");
        }

        await PostVerificationHandler.EnsureBotCanPostAsync(guilds, context.GuildId, channelId, cancellationToken);
        try
        {
            await discord.CreateMessageAsync(channelId, new MessageCreate(
                Content: $"WalverBot will post a short notice here for each role granted and each problem that needs an admin (set by <@{context.User.Id}>).",
                AllowedMentions: AllowedMentions.None), cancellationToken);
        }
        catch (DiscordRestException ex) when (ex.ErrorCode is DiscordErrorCodes.MissingPermissions or DiscordErrorCodes.MissingAccess)
        {
            logger.LogWarning("Discord refused a post in channel {ChannelId} of guild {GuildId}: {Error}", channelId, context.GuildId, ex.Message);
            return new Reply($"Discord refused a test post in <#{channelId}>: give the bot **View Channel** and **Send Messages** there. The log channel was not changed.");
        }

        await store.SetLogChannelAsync(context.GuildId, channelId, cancellationToken);
        return new Reply($"Notices go to <#{channelId}> from now on.");
    }
}
