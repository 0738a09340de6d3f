using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using WalverBot.Grants;
using WalverBot.Verifications;

namespace WalverBot.Commands;

/// <summary>
/// <c>/walver tiers</c>: the extra roles of a token gate by amount held. Lists them, adds or moves one, or removes one;
/// every tier role passes the same safety check as the base role, and a refused change leaves the tiers as they were.
/// </summary>
public sealed class TiersHandler(
    VerificationStore store,
    GuildDirectory guilds,
    IOptions<RoleOptions> roleOptions,
    ILogger<TiersHandler> logger) : ICommandHandler<TiersCommand>
{
    /// <summary>Enough for Holder / Whale / Shark ladders; each tier is one more role change per member and check.</summary>
    public const int MaxTiers = 10;

    public async Task<Reply> HandleAsync(TiersCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken)
    {
        var verification = await store.InGuildAsync(command.VerificationId, context.GuildId, cancellationToken);
        if (command.RoleId is not { } roleId)
        {
            return new Reply(Describe(verification));
        }

        if (verification.Source == "config")
        {
            return new Reply($"`{verification.Id}` is declared in the bot's configuration; the bot operator changes its tiers there (`Verifications:{{i}}:Tiers`). Nothing was changed.");
        }

        if (!verification.IsTokenGated)
        {
            return new Reply($"`{verification.Id}` has no token gate, so there is no amount to give tier roles by. Create a token-gated verification with `/walver create token_address:…` (or `token_standard:native`). Nothing was changed.");
        }

        var others = verification.Tiers.Where(t => t.RoleId != roleId).ToList();
        if (command.Remove)
        {
            if (others.Count == verification.Tiers.Count)
            {
                return new Reply($"<@&{roleId}> is not a tier of `{verification.Id}`. {Describe(verification)}");
            }

            await store.UpsertAsync(verification with { Tiers = others }, cancellationToken);
            logger.LogInformation("Admin {UserId} removed tier role {RoleId} from verification {VerificationId}", context.User.Id, roleId, verification.Id);
            return new Reply($"Removed the tier of <@&{roleId}> from `{verification.Id}`. Members keep the role until the next holdings check takes it back.\n{Describe(verification with { Tiers = others })}");
        }

        var amount = command.MinAmount!.Value;
        if (verification.Tiers.Contains(new RoleTier(amount, roleId)))
        {
            return new Reply($"<@&{roleId}> already starts at {Amount(amount)}. Nothing was changed.\n{Describe(verification)}");
        }

        if (roleId == verification.RoleId)
        {
            return new Reply($"<@&{roleId}> is the verification's own role, held from its minimum amount; a tier gives another role. Nothing was changed.");
        }

        if (GateRules.TierAmountProblem(amount, verification.MinAmount, verification.EffectiveTokenStandard) is { } amountProblem)
        {
            return new Reply($"`min_amount` {amountProblem}. Nothing was changed.");
        }

        if (others.FirstOrDefault(t => t.MinAmount == amount) is { } taken)
        {
            return new Reply($"<@&{taken.RoleId}> already starts at {Amount(amount)}: each tier needs its own amount. Nothing was changed.");
        }

        if (others.Count >= MaxTiers)
        {
            return new Reply($"`{verification.Id}` has {MaxTiers} tiers already, the most it may have. Remove one first. Nothing was changed.");
        }

        var roles = await guilds.RolesAsync(context.GuildId, cancellationToken);
        if (RoleSafety.Check(context.GuildId, roleId, roles.Roles, roles.BotRoleIds, roleOptions.Value.AllowPrivileged) is { } unsafeReason)
        {
            return new Reply($"I can't hand out that role: {unsafeReason}. Nothing was changed.");
        }

        var moved = others.Count < verification.Tiers.Count;
        var updated = verification with { Tiers = [.. others.Append(new RoleTier(amount, roleId)).OrderBy(t => t.MinAmount)] };
        await store.UpsertAsync(updated, cancellationToken);
        logger.LogInformation("Admin {UserId} set tier role {RoleId} of verification {VerificationId} at {MinAmount}",
            context.User.Id, roleId, verification.Id, amount);
        return new Reply($"{(moved ? "Moved" : "Added")} the tier <@&{roleId}> of `{verification.Id}` to {Amount(amount)}. Members get or lose tier roles at their next holdings check.\n{Describe(updated)}");
    }

    /// <summary>Every role of the verification with the amount it needs, base role first.</summary>
    public static string Describe(Verification verification)
    {
        if (verification.Tiers.Count == 0)
        {
            return $"`{verification.Id}` has no tiers: <@&{verification.RoleId}> only. Add one with `/walver tiers verification:{verification.Id} role:<role> min_amount:<amount>`.";
        }

        var text = new StringBuilder($"Tiers of `{verification.Id}`:");
        foreach (var tier in verification.AllTiers)
        {
            text.Append($"\n- <@&{tier.RoleId}> from {Amount(tier.MinAmount)}{(tier.RoleId == verification.RoleId ? " (its own role)" : "")}");
        }

        return text.ToString();
    }

    private static string Amount(decimal amount) => amount.ToString(CultureInfo.InvariantCulture);
}
