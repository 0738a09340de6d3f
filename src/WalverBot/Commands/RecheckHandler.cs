using System.Text;
using WalverBot.Chains;
using WalverBot.Holdings;
using WalverBot.Verifications;

namespace WalverBot.Commands;

/// <summary>
/// <c>/walver recheck</c>: reads every wallet of a verification now. <c>dry_run</c> answers what would change and
/// changes nothing; <c>confirm_removals</c> releases a paused verification and applies what the breaker held back.
/// A long pass edits its deferred answer with progress, at most every <see cref="ProgressEvery"/>.
/// </summary>
public sealed class RecheckHandler(VerificationStore verifications, RecheckEngine engine, IChainReader reader, TimeProvider time, ILogger<RecheckHandler> logger)
    : ICommandHandler<RecheckCommand>
{
    public static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(2);

    private const int Listed = 15;

    public async Task<Reply> HandleAsync(RecheckCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken)
    {
        var verification = await verifications.InGuildAsync(command.VerificationId, context.GuildId, cancellationToken);
        if (!verification.IsTokenGated)
        {
            return new Reply($"`{verification.Id}` is not token-gated: there are no holdings to re-check.");
        }

        if (!verification.Enabled)
        {
            return new Reply($"`{verification.Id}` is disabled: enable it first (`/walver enable`).");
        }

        if (verification.Chain is not { } chain || !reader.CanRead(chain))
        {
            return new Reply($"`{verification.Id}` cannot be re-checked: no RPC endpoint is configured for {verification.Chain ?? "its chain"} (set `Chains:{verification.Chain ?? "<chain>"}:RpcUrl`).");
        }

        await progress.DeferAsync(cancellationToken);
        // The first batch shows at once (the admin sees the total), later ones at most every ProgressEvery.
        var lastShown = DateTimeOffset.MinValue;
        async Task ShowAsync(PassProgress p)
        {
            var now = time.GetUtcNow();
            if (lastShown != DateTimeOffset.MinValue && now - lastShown < ProgressEvery)
            {
                return;
            }

            lastShown = now;
            await progress.ProgressAsync($"Re-checking `{verification.Id}`… {p.Checked} of {p.Total} wallets checked, {p.Added} roles added, {p.Removed} removed so far.", cancellationToken);
        }

        var result = await engine.RunAsync(verification, new PassOptions(Manual: true, command.DryRun, command.ConfirmRemovals), ShowAsync, cancellationToken);
        logger.LogInformation("Admin {UserId} re-checked verification {VerificationId} (dry run {DryRun}, confirm removals {Confirm}): {Added} added, {Removed} removed, paused {Paused}",
            context.User.Id, verification.Id, command.DryRun, command.ConfirmRemovals, result.Added.Count, result.Removed.Count, result.PausedReason is not null);
        return new Reply(Describe(verification, command, result));
    }

    private static string Describe(Verification verification, RecheckCommand command, PassResult result)
    {
        var text = new StringBuilder();
        if (result.PausedReason is { } reason)
        {
            text.AppendLine(command.DryRun
                ? $"Dry run of `{verification.Id}`: the pass would pause and remove nothing: {reason}."
                : $"`{verification.Id}` is paused; nothing was removed: {reason}.");
            return text.ToString().TrimEnd();
        }

        text.AppendLine(command.DryRun
            ? $"Dry run of `{verification.Id}` ({result.Checked} wallets read; nothing was changed): {result.Added.Count} roles would be added, {result.Removed.Count} removed, {result.Strikes} members would get a first strike."
            : $"Re-checked `{verification.Id}`: {result.Checked} wallets read, {result.Added.Count} roles added, {result.Removed.Count} removed, {result.Strikes} members on a first strike (their roles go at the next failed check after `Rechecks:Grace`).");
        foreach (var change in result.Added.Take(Listed))
        {
            text.AppendLine($"+ <@&{change.RoleId}> to <@{change.UserId}> (holds {HoldingsTiers.Format(change.Amount)})");
        }

        foreach (var change in result.Removed.Take(Listed))
        {
            text.AppendLine($"- <@&{change.RoleId}> from <@{change.UserId}> (holds {HoldingsTiers.Format(change.Amount)})");
        }

        if (result.Added.Count + result.Removed.Count > 2 * Listed)
        {
            text.AppendLine("… (`/walver holders` has everyone)");
        }

        return text.ToString().TrimEnd();
    }
}
