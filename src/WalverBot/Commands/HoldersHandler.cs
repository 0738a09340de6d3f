using System.Text;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Holdings;
using WalverBot.Verifications;

namespace WalverBot.Commands;

/// <summary>
/// <c>/walver holders</c>: every member holding a role of the verification, with wallets, summed amount, tier roles,
/// last check and block/slot, as a CSV attachment (the snapshot communities use for airdrops).
/// </summary>
public sealed class HoldersHandler(VerificationStore verifications, HoldingsStore holdings, IGuildMemberRequests members, ILogger<HoldersHandler> logger)
    : ICommandHandler<HoldersCommand>
{
    public async Task<Reply> HandleAsync(HoldersCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken)
    {
        var verification = await verifications.InGuildAsync(command.VerificationId, context.GuildId, cancellationToken);
        await progress.DeferAsync(cancellationToken);
        var wallets = (await holdings.WalletsAsync(verification.Id, cancellationToken)).ToLookup(w => w.UserId);
        var holders = (await holdings.MembersAsync(verification.Id, cancellationToken)).Where(m => m.RoleSet.Count > 0).OrderBy(m => m.UserId).ToList();
        var names = await UsernamesAsync(context.GuildId, holders.Select(h => h.UserId).ToList(), cancellationToken);
        var tierNames = verification.AllTiers.ToDictionary(t => t.RoleId, t => t.MinAmount);
        var lines = holders.Select(h =>
        {
            var own = wallets[h.UserId].ToList();
            decimal? amount = own.Count > 0 && own.All(w => w.AmountValue is not null) ? own.Sum(w => w.AmountValue!.Value) : null;
            var tiers = h.RoleSet.Where(tierNames.ContainsKey).OrderBy(r => tierNames[r]).Select(r => r.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return new HoldersCsv.Line(h.UserId, names.GetValueOrDefault(h.UserId), [.. own.Select(w => w.WalletAddress)], amount, string.Join(' ', tiers),
                own.Select(w => w.CheckedAt).Where(a => a is not null).DefaultIfEmpty(null).Min(), own.Select(w => w.BlockOrSlot).Where(b => b is not null).DefaultIfEmpty(null).Max());
        }).ToList();

        var csv = Encoding.UTF8.GetBytes(HoldersCsv.Write(lines));
        var fileName = $"holders-{SafeName(verification.Id)}.csv";
        await progress.AttachFilesAsync($"Holders of `{verification.Id}`: {lines.Count} members.",
            [new FileUpload(fileName, "text/csv", csv, $"Holders of {verification.Id}")], cancellationToken);
        logger.LogInformation("Admin {UserId} exported {Count} holders of verification {VerificationId}", context.User.Id, lines.Count, verification.Id);
        return new Reply($"{lines.Count} holders of `{verification.Id}` are in `{fileName}` (below). Amounts are summed over each member's linked wallets; " +
                         "the tier column lists the role ids held, lowest tier first.");
    }

    /// <summary>Usernames over the gateway (op 8, 100 ids a request, no REST calls); empty when the gateway cannot answer.</summary>
    private async Task<Dictionary<ulong, string>> UsernamesAsync(ulong guildId, IReadOnlyList<ulong> userIds, CancellationToken cancellationToken)
    {
        var names = new Dictionary<ulong, string>();
        foreach (var chunk in userIds.Chunk(100))
        {
            try
            {
                var answer = await members.RequestByIdsAsync(guildId, chunk, cancellationToken);
                foreach (var member in answer.Members)
                {
                    names[member.User.Id] = member.User.Username;
                }
            }
            catch (GatewayUnavailableException ex)
            {
                logger.LogWarning("Holders of guild {GuildId}: usernames left empty, the gateway could not answer ({Error})", guildId, ex.Message);
                break;
            }
        }

        return names;
    }

    private static string SafeName(string id) => new([.. id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_')]);
}
