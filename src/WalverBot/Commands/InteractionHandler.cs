using System.Security.Cryptography;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;

namespace WalverBot.Commands;

/// <summary>
/// The edge between Discord and the commands: INTERACTION_CREATE → typed command → permission check → handler →
/// one answer within 3 s. Expected refusals reach the caller as a short message saying what to fix; anything
/// unexpected is logged with an error id that the message repeats.
/// </summary>
public sealed class InteractionHandler(
    CommandRouter router,
    VerificationAutocomplete autocomplete,
    IDiscordRestClient discord,
    TimeProvider time,
    ILogger<InteractionHandler> logger) : IGatewayEventHandler<InteractionCreateEvent>
{
    /// <summary>Answer directly when the handler is done by then, else defer: well inside Discord's 3 s.</summary>
    public static readonly TimeSpan DirectAnswerBudget = TimeSpan.FromMilliseconds(1500);

    public const string NotAdminMessage = "You need the **Manage Roles** permission to use `/walver`.";

    public Task HandleAsync(InteractionCreateEvent gatewayEvent, CancellationToken cancellationToken)
    {
        var interaction = gatewayEvent.Interaction;
        return interaction.Type switch
        {
            InteractionType.ApplicationCommand => RunCommandAsync(interaction, cancellationToken),
            InteractionType.ApplicationCommandAutocomplete => SuggestAsync(interaction, cancellationToken),
            _ => Task.CompletedTask,
        };
    }

    private async Task RunCommandAsync(Interaction interaction, CancellationToken cancellationToken)
    {
        await using var reply = new InteractionReply(discord, interaction, time, logger);
        Reply answer;
        try
        {
            reply.DeferAfter(DirectAnswerBudget, cancellationToken);
            answer = await DecideAsync(interaction, reply, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (CommandException ex)
        {
            answer = new Reply(ex.Message);
        }
        catch (Exception ex)
        {
            var errorId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
            logger.LogError(ex, "Command {Interaction} from user {UserId} failed; error id {ErrorId}",
                interaction, interaction.Invoker?.Id, errorId);
            await TryFinishAsync(reply, interaction,
                new Reply($"Something went wrong (error id `{errorId}`). Nothing was changed unless said above; the bot operator can find the details in the logs under that id."),
                cancellationToken);
            return;
        }

        try
        {
            await reply.FinishAsync(answer, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The command has run (roles may be gone already); only showing its answer failed. Send the same words
            // once more as plain text, so the admin reads what was done rather than a generic error.
            logger.LogWarning("Could not show the answer to {Interaction}, trying once more as plain text: {Error}", interaction, ex.Message);
            await TryFinishAsync(reply, interaction, new Reply(answer.Content), cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<Reply> DecideAsync(Interaction interaction, InteractionReply reply, CancellationToken cancellationToken)
    {
        if (interaction.GuildId is not { } guildId || interaction.Member is not { } member)
        {
            return new Reply("WalverBot's commands work inside a server only.");
        }

        var context = new CommandContext(guildId, interaction.ChannelId, member.Member.User, member.Permissions);
        switch (CommandParser.Parse(interaction.Data))
        {
            case ParseResult.Invalid invalid:
                return new Reply(invalid.Message);
            case ParseResult.Unknown unknown:
                logger.LogWarning("Received unknown command {Command}; the registered commands may be from another build", unknown.Name);
                return new Reply("This command is not known to this version of WalverBot; it will disappear once the bot has registered its commands again.");
            case ParseResult.Parsed { Command: var command }:
                // Discord's default_member_permissions can be overridden per server; check every call.
                if (command.RequiresAdmin && !context.IsAdmin)
                {
                    logger.LogInformation("Refused {Command} to user {UserId} in guild {GuildId}: no Manage Roles", command.GetType().Name, context.User.Id, guildId);
                    return new Reply(NotAdminMessage);
                }

                return await router.RouteAsync(command, context, reply, cancellationToken);
            default:
                throw new InvalidOperationException("unhandled parse result");
        }
    }

    private async Task SuggestAsync(Interaction interaction, CancellationToken cancellationToken)
    {
        IReadOnlyList<ApplicationCommandOptionChoice> choices = [];
        try
        {
            var request = CommandParser.ParseAutocomplete(interaction.Data);
            var isAdmin = interaction.Member is { } m &&
                (m.Permissions & (DiscordPermissions.ManageRoles | DiscordPermissions.Administrator)) != 0;
            if (request is not null && interaction.GuildId is { } guildId && isAdmin)
            {
                choices = await autocomplete.SuggestAsync(guildId, request, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Autocomplete for {Interaction} failed", interaction);
        }

        try
        {
            await discord.CreateInteractionResponseAsync(interaction.Id, interaction.Token, InteractionResponse.Autocomplete(choices), cancellationToken);
        }
        catch (DiscordRestException ex)
        {
            logger.LogWarning("Could not answer autocomplete {Interaction}: {Error}", interaction, ex.Message);
        }
    }

    private async Task TryFinishAsync(InteractionReply reply, Interaction interaction, Reply answer, CancellationToken cancellationToken)
    {
        try
        {
            await reply.FinishAsync(answer, cancellationToken);
        }
        catch (Exception ex) when (ex is DiscordRestException or OperationCanceledException)
        {
            logger.LogWarning("Could not answer {Interaction}: {Error}", interaction, ex.Message);
        }
    }
}
