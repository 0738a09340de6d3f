using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;
using WalverBot.Verifications;

namespace WalverBot.Commands;

/// <summary><c>/walver post</c>: a public message with a "Verify wallet" link button, after checking the bot may post there.</summary>
public sealed class PostVerificationHandler(VerificationStore store, GuildDirectory guilds, IDiscordRestClient discord, ILogger<PostVerificationHandler> logger)
{
    public const string ButtonLabel = "Verify wallet";

    public async Task<Reply> HandleAsync(PostVerificationCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken)
    {
        var verification = await store.InGuildAsync(command.VerificationId, context.GuildId, cancellationToken);
        if (!verification.Enabled)
        {
            return new Reply($"Verification `{verification.Id}` is disabled; its webhooks are refused, so a link to it would grant nothing.");
        }

        if (verification.VerificationUrl is not { } url)
        {
            return new Reply(verification.Source == "config"
                ? $"The bot does not know the link of `{verification.Id}`. It is declared in the bot's configuration: the bot operator adds its `Url` there (the link from Walver's dashboard)."
                : $"The bot does not know the link of `{verification.Id}`. Add it with `/walver link id:{verification.Id} url:<link from Walver's dashboard>` (with its role and secret).");
        }

        await progress.DeferAsync(cancellationToken);
        await EnsureBotCanPostAsync(guilds, context.GuildId, command.ChannelId, cancellationToken);
        try
        {
            await discord.CreateMessageAsync(command.ChannelId, Message(verification, url), cancellationToken);
        }
        catch (DiscordRestException ex) when (ex.ErrorCode is DiscordErrorCodes.MissingPermissions or DiscordErrorCodes.MissingAccess)
        {
            logger.LogWarning("Discord refused a post in channel {ChannelId} of guild {GuildId}: {Error}", command.ChannelId, context.GuildId, ex.Message);
            return new Reply($"Discord refused the post in <#{command.ChannelId}>: give the bot **View Channel** and **Send Messages** there.");
        }

        return new Reply($"Posted the “{ButtonLabel}” button for `{verification.Id}` in <#{command.ChannelId}>.");
    }

    public static MessageCreate Message(Verification verification, string url) => new(
        Content: $"**{CommandParser.Sanitize(verification.Name ?? "Wallet verification", 100)}**\n" +
                 $"Verify your wallet to get the <@&{verification.RoleId}> role: press the button, connect your wallet and type your Discord username when asked.",
        Components: [MessageComponent.ActionRow(MessageComponent.LinkButton(ButtonLabel, url))],
        AllowedMentions: AllowedMentions.None);

    /// <summary>Throws with advice unless the bot can view and send messages in the channel.</summary>
    public static async Task EnsureBotCanPostAsync(GuildDirectory guilds, ulong guildId, ulong channelId, CancellationToken cancellationToken)
    {
        var (channel, permissions) = await guilds.BotChannelPermissionsAsync(guildId, channelId, cancellationToken);
        if (channel is null)
        {
            throw new CommandException($"The bot cannot see <#{channelId}>: give it **View Channel** there, or pick a channel of this server.");
        }

        if (!channel.IsTextChannel)
        {
            throw new CommandException($"<#{channelId}> is not a text or announcement channel.");
        }

        if (!ChannelPermissions.CanPost(permissions))
        {
            throw new CommandException($"The bot may not post in <#{channelId}>: give it **View Channel** and **Send Messages** there.");
        }
    }
}
