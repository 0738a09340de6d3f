using Microsoft.Extensions.Options;
using WalverBot.Grants;
using WalverBot.Verifications;

namespace WalverBot.Commands;

/// <summary><c>/walver link</c>: registers a verification made in Walver's dashboard, with the same role checks as create.</summary>
public sealed class LinkVerificationHandler(
    VerificationStore store,
    GuildDirectory guilds,
    IOptions<RoleOptions> roleOptions,
    IOptions<Webhooks.WebhookOptions> webhookOptions,
    ILogger<LinkVerificationHandler> logger) : ICommandHandler<LinkVerificationCommand>
{
    public async Task<Reply> HandleAsync(LinkVerificationCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken)
    {
        var existing = await store.FindAsync(command.VerificationId, cancellationToken);
        if (existing is not null && existing.GuildId != context.GuildId)
        {
            // Do not reveal which server holds it.
            return new Reply($"Verification `{command.VerificationId}` is already linked elsewhere. Use another id.");
        }

        if (existing is { Source: "config" })
        {
            return new Reply($"Verification `{command.VerificationId}` is declared in the bot's configuration; the bot operator changes it there.");
        }

        var roles = await guilds.RolesAsync(context.GuildId, cancellationToken);
        if (RoleSafety.Check(context.GuildId, command.RoleId, roles.Roles, roles.BotRoleIds, roleOptions.Value.AllowPrivileged) is { } unsafeReason)
        {
            return new Reply($"I can't hand out that role: {unsafeReason}. Nothing was linked.");
        }

        await store.UpsertAsync(new Verification
        {
            Id = command.VerificationId,
            GuildId = context.GuildId,
            RoleId = command.RoleId,
            SecretHash = SecretHasher.Hash(command.Secret),
            Chain = command.Chain ?? existing?.Chain,
            TokenAddress = existing?.TokenAddress,
            MinAmount = existing?.MinAmount,
            IsNft = existing?.IsNft ?? false,
            Name = existing?.Name,
            Source = "command",
            Enabled = true,
            VerificationUrl = command.Url ?? existing?.VerificationUrl,
        }, cancellationToken);

        logger.LogInformation("Admin {UserId} linked verification {VerificationId} to role {RoleId} in guild {GuildId}",
            context.User.Id, command.VerificationId, command.RoleId, context.GuildId);
        var webhook = webhookOptions.Value.WebhookUrl?.ToString() ?? "https://<your bot's public address>/webhooks/walver";
        var link = command.Url ?? existing?.VerificationUrl;
        return new Reply(
            $"{(existing is null ? "Linked" : "Updated")} verification `{command.VerificationId}` → <@&{command.RoleId}>.\n" +
            $"In Walver's dashboard, its webhook must be `{webhook}` with the same secret, and it needs a required custom field of type `discord`.\n" +
            (link is null
                ? "No link was given, so `/verify` and `/walver post` cannot show it: run this again with `url:` to add it."
                : $"Members open: {link}"));
    }
}
