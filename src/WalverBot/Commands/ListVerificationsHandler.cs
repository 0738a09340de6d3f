using System.Globalization;
using System.Text;
using WalverBot.Grants;
using WalverBot.Verifications;

namespace WalverBot.Commands;

/// <summary><c>/walver list</c>: this server's verifications with role, chain, gate, state and counts.</summary>
public sealed class ListVerificationsHandler(VerificationStore store, GrantLedger ledger) : ICommandHandler<ListVerificationsCommand>
{
    public async Task<Reply> HandleAsync(ListVerificationsCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken)
    {
        var verifications = await store.ListForGuildAsync(context.GuildId, cancellationToken);
        if (verifications.Count == 0)
        {
            return new Reply("No verification is set up in this server. Create one with `/walver create`, or register one made in Walver's dashboard with `/walver link`.");
        }

        var counts = await ledger.CountsForGuildAsync(context.GuildId, cancellationToken);
        var text = new StringBuilder($"**{verifications.Count} verification(s)**\n");
        foreach (var v in verifications)
        {
            var c = counts.GetValueOrDefault(v.Id) ?? new VerificationCounts();
            var line = $"{(v.Enabled ? "🟢" : "⚪")} `{v.Id}`{(v.Name is null ? "" : $" “{CommandParser.Sanitize(v.Name)}”")} → <@&{v.RoleId}> · " +
                       $"{v.Chain ?? "any chain"} · {Gate(v)} · {(v.Enabled ? "enabled" : "disabled")} · " +
                       $"granted {c.Granted}, pending {c.Pending}, rejected {c.Rejected}" +
                       (v.Source == "config" ? " · from configuration" : "") +
                       (v.VerificationUrl is null ? " · no link known" : "") + "\n";
            if (text.Length + line.Length > InteractionReply.MaxContentLength - 40)
            {
                text.Append("… and more; the list is cut to fit one message.");
                break;
            }

            text.Append(line);
        }

        return new Reply(text.ToString().TrimEnd());
    }

    /// <summary>What a member must hold: amount, asset and standard (with the ERC-1155 id), then the tier roles; or the re-verify period.</summary>
    public static string Gate(Verification v)
    {
        if (!v.IsTokenGated)
        {
            return v.ReverifyAfter is { } period ? $"no token gate · re-verify every {ReverifyExpiry.Period(period)}" : "no token gate";
        }

        var standard = v.EffectiveTokenStandard;
        var asset = standard == TokenStandards.Native ? $"{v.Chain ?? "the chain"}'s own coin" : $"`{Short(v.TokenAddress!)}`";
        var text = $"holds ≥ {v.MinAmount?.ToString(CultureInfo.InvariantCulture) ?? "any"}{(v.IsNft ? " NFT" : "")} of {asset} " +
                   $"({standard}{(v.TokenId is null ? "" : $" id {Short(v.TokenId)}")})";
        return v.Tiers.Count == 0
            ? text
            : text + " · tiers " + string.Join(", ", v.Tiers.Select(t => $"<@&{t.RoleId}> ≥ {t.MinAmount.ToString(CultureInfo.InvariantCulture)}"));
    }

    private static string Short(string address) => address.Length <= 14 ? address : $"{address[..6]}…{address[^4..]}";
}

/// <summary>Finds a verification of the caller's server; another server's is "not found", never revealed.</summary>
public static class VerificationLookup
{
    public static async Task<Verification> InGuildAsync(this VerificationStore store, string id, ulong guildId, CancellationToken cancellationToken)
    {
        var verification = await store.FindAsync(id, cancellationToken);
        return verification is not null && verification.GuildId == guildId
            ? verification
            : throw new CommandException($"There is no verification `{id}` in this server; `/walver list` shows them.");
    }
}
