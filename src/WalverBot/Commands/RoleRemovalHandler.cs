using WalverBot.Discord.Rest;
using WalverBot.Grants;
using WalverBot.Verifications;

namespace WalverBot.Commands;

/// <summary>
/// <c>/walver disable</c> and <c>/walver revoke</c>: stop a verification and take back roles. Roles are removed one
/// at a time through the rate-limited REST client, with progress shown by editing the answer.
/// </summary>
public sealed class RoleRemovalHandler(
    VerificationStore store,
    GrantLedger ledger,
    IDiscordRestClient discord,
    TimeProvider time,
    ILogger<RoleRemovalHandler> logger)
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(2);

    public async Task<Reply> DisableAsync(DisableVerificationCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken)
    {
        var verification = await store.InGuildAsync(command.VerificationId, context.GuildId, cancellationToken);
        var wasEnabled = verification.Enabled;
        if (wasEnabled)
        {
            await store.SetEnabledAsync(verification.Id, false, cancellationToken);
            logger.LogInformation("Admin {UserId} disabled verification {VerificationId} in guild {GuildId}", context.User.Id, verification.Id, context.GuildId);
        }

        var state = wasEnabled
            ? $"Disabled `{verification.Id}`: its webhooks are refused from now on (`/walver enable` turns it back on)."
            : $"`{verification.Id}` was already disabled.";
        if (!command.RemoveRoles)
        {
            return new Reply($"{state} Roles it granted stay; run `/walver disable verification:{verification.Id} remove_roles:True` to remove them.");
        }

        var grants = await ledger.ActiveGrantsForVerificationAsync(verification.Id, cancellationToken);
        if (grants.Count == 0)
        {
            return new Reply($"{state} It has no roles granted to remove.");
        }

        await progress.ProgressAsync($"{state} Removing its role from {grants.Count} member(s)…", cancellationToken);
        var summary = await RemoveAsync(grants, keepHeldElsewhere: true, $"verification {verification.Id} disabled by an admin", progress, state, cancellationToken);
        return new Reply($"{state} {summary}");
    }

    public async Task<Reply> RevokeAsync(RevokeMemberCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken)
    {
        if (command.VerificationId is { } id)
        {
            await store.InGuildAsync(id, context.GuildId, cancellationToken);
        }

        var grants = (await ledger.GrantsForMemberAsync(context.GuildId, command.UserId, cancellationToken))
            .Where(g => g.Status == "granted" && (command.VerificationId is null || g.VerificationId == command.VerificationId))
            .ToList();
        await progress.DeferAsync(cancellationToken);

        var summary = grants.Count == 0
            ? "They hold no role granted through a verification."
            : await RemoveAsync(grants, keepHeldElsewhere: command.VerificationId is not null,
                $"revoked by admin {context.User.Id}", progress, $"Revoking <@{command.UserId}>…", cancellationToken);

        // The wallet link goes once the member holds nothing through verifications, so the wallet may verify someone else.
        var remaining = (await ledger.GrantsForMemberAsync(context.GuildId, command.UserId, cancellationToken)).Count(g => g.Status == "granted");
        var unlinked = remaining == 0 ? await ledger.UnlinkWalletsAsync(context.GuildId, command.UserId, cancellationToken) : 0;
        logger.LogInformation("Admin {UserId} revoked member {MemberId} in guild {GuildId} ({Grants} grant(s), {Unlinked} wallet link(s))",
            context.User.Id, command.UserId, context.GuildId, grants.Count, unlinked);

        var links = unlinked > 0 ? $" Removed {unlinked} wallet link(s)." : remaining > 0 ? " Their wallet link stays: they still hold roles through other verifications." : "";
        return new Reply($"<@{command.UserId}>: {summary}{links}");
    }

    private async Task<string> RemoveAsync(
        IReadOnlyList<GrantRecord> grants, bool keepHeldElsewhere, string reason, IReplyProgress progress, string heading, CancellationToken cancellationToken)
    {
        int removed = 0, gone = 0, kept = 0;
        var failures = new List<string>();
        var lastProgress = time.GetUtcNow();
        for (var i = 0; i < grants.Count; i++)
        {
            var grant = grants[i];
            if (keepHeldElsewhere && grant.RoleHeldElsewhere)
            {
                // Another enabled verification gave the same role: removing it would undo that one too.
                kept++;
                await ledger.RecordRevocationAsync(grant, $"{reason}; role kept, another verification granted it too", cancellationToken);
                continue;
            }

            try
            {
                await discord.RemoveGuildMemberRoleAsync(grant.GuildId, grant.UserId, grant.RoleId, $"WalverBot: {reason}", cancellationToken);
                removed++;
                await ledger.RecordRevocationAsync(grant, reason, cancellationToken);
            }
            catch (DiscordRestException ex) when (ex.ErrorCode is DiscordErrorCodes.UnknownMember or DiscordErrorCodes.UnknownUser or DiscordErrorCodes.UnknownRole)
            {
                gone++;
                await ledger.RecordRevocationAsync(grant, $"{reason}; the member or role is no longer in the server", cancellationToken);
            }
            catch (DiscordRestException ex) when (ex.ErrorCode is DiscordErrorCodes.MissingPermissions or DiscordErrorCodes.MissingAccess)
            {
                failures.Add("Discord says Missing Permissions: give the bot Manage Roles and move its role above the verification's role, then run this again");
                break;
            }
            catch (DiscordRestException ex)
            {
                logger.LogWarning("Could not remove role {RoleId} from member {MemberId} in guild {GuildId}: {Error}", grant.RoleId, grant.UserId, grant.GuildId, ex.Message);
                failures.Add($"<@{grant.UserId}>: {ex.Message}");
            }

            if (time.GetUtcNow() - lastProgress >= ProgressInterval && i < grants.Count - 1)
            {
                lastProgress = time.GetUtcNow();
                await progress.ProgressAsync($"{heading} Removing roles… {i + 1}/{grants.Count}", cancellationToken);
            }
        }

        var parts = new List<string> { $"Removed {removed} role(s)" };
        if (gone > 0)
        {
            parts.Add($"{gone} already gone (member left or role deleted)");
        }

        if (kept > 0)
        {
            parts.Add($"{kept} kept because another verification granted the same role");
        }

        var text = string.Join("; ", parts) + ".";
        if (failures.Count > 0)
        {
            var left = grants.Count - removed - gone - kept;
            text += $" {left} not removed: {string.Join("; ", failures.Distinct().Take(5))}.";
        }

        return text;
    }
}
