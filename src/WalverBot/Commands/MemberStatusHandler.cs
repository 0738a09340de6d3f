using System.Text;
using WalverBot.Grants;

namespace WalverBot.Commands;

/// <summary><c>/walver status</c>: a member's wallets, grants with dates, and the last decisions with their reasons.</summary>
public sealed class MemberStatusHandler(GrantLedger ledger, Verifications.VerificationStore store, Holdings.HoldingsStore holdings)
    : ICommandHandler<MemberStatusCommand>
{
    private const int DecisionCount = 8;

    public async Task<Reply> HandleAsync(MemberStatusCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken)
    {
        var wallets = await ledger.WalletLinksForMemberAsync(context.GuildId, command.UserId, cancellationToken);
        var grants = await ledger.GrantsForMemberAsync(context.GuildId, command.UserId, cancellationToken);
        var decisions = await ledger.RecentDecisionsAsync(context.GuildId, command.UserId, DecisionCount, cancellationToken);
        if (wallets.Count == 0 && grants.Count == 0 && decisions.Count == 0)
        {
            return new Reply($"Nothing is known about <@{command.UserId}>: no wallet, no grant, no decision in this server.");
        }

        var text = new StringBuilder($"**<@{command.UserId}>**\n");
        text.Append("**Wallets:** ").AppendLine(wallets.Count == 0
            ? "none linked"
            : string.Join(", ", wallets.Select(w => $"`{w.WalletAddress}` (via `{w.VerificationId}`, {Date(w.LinkedAt)})")));

        AppendHoldings(text, await holdings.WalletsOfMemberInGuildAsync(context.GuildId, command.UserId, cancellationToken));

        text.AppendLine("**Grants:**");
        if (grants.Count == 0)
        {
            text.AppendLine("- none");
        }

        foreach (var g in grants.Take(10))
        {
            text.AppendLine(g.Status == "granted"
                ? $"- <@&{g.RoleId}> via `{g.VerificationId}`, granted {Date(g.GrantedAt)}{await ReverifyByAsync(g, cancellationToken)}"
                : $"- <@&{g.RoleId}> via `{g.VerificationId}`, granted {Date(g.GrantedAt)}, {g.Status} {(g.RevokedAt is { } at ? Date(at) : "")}".TrimEnd());
        }

        text.AppendLine("**Last decisions:**");
        if (decisions.Count == 0)
        {
            text.AppendLine("- none");
        }

        foreach (var d in decisions)
        {
            text.AppendLine($"- {Date(d.At)} `{d.Outcome}` via `{d.VerificationId}`{(d.Wallet is null ? "" : $", wallet `{d.Wallet}`")}: {CommandParser.Sanitize(d.Reason, 200)}");
        }

        return new Reply(text.ToString().TrimEnd());
    }

    /// <summary>When the role of a verification with ReverifyAfter goes unless the member verifies again; empty otherwise.</summary>
    private async Task<string> ReverifyByAsync(GrantRecord grant, CancellationToken cancellationToken) =>
        await store.FindAsync(grant.VerificationId, cancellationToken) is { ReverifyAfter: { } period, IsTokenGated: false }
            ? $", re-verify by {Date(grant.GrantedAt + period)}"
            : "";
    /// <summary>Per verification: each linked wallet with its last amount and block/slot, when it was checked and when it is next.</summary>
    private static void AppendHoldings(StringBuilder text, IReadOnlyList<Holdings.HeldWallet> wallets)
    {
        if (wallets.Count == 0)
        {
            return;
        }

        text.AppendLine("**Holdings:**");
        foreach (var group in wallets.GroupBy(w => w.VerificationId))
        {
            var amounts = group.Select(w => w.AmountValue).ToList();
            var sum = amounts.All(a => a is not null) ? $"{Holdings.HoldingsTiers.Format(amounts.Sum(a => a!.Value))} in total" : "not read yet";
            text.AppendLine($"- via `{group.Key}`: {sum}");
            foreach (var w in group)
            {
                var amount = w.AmountValue is { } a ? $"{Holdings.HoldingsTiers.Format(a)} at block/slot {w.BlockOrSlot}" : "not read yet";
                var last = w.CheckedAt is { } at ? Date(at) : "never";
                text.AppendLine($"  - `{w.WalletAddress}`: {amount}; last check {last}, next check {Date(w.NextCheckAt)}");
            }
        }
    }

    /// <summary>Discord renders it in the reader's time zone.</summary>
    private static string Date(DateTimeOffset at) => $"<t:{at.ToUnixTimeSeconds()}:f>";
}
