using Microsoft.Extensions.Options;
using WalverBot.Chains;
using WalverBot.Operations;
using WalverBot.Storage;
using WalverBot.Verifications;

namespace WalverBot.Following;

/// <summary><c>check</c>: one line per EVM chain follower: its cursor, and the head and lag when the endpoint answers.</summary>
public static class FollowerCheck
{
    public static async Task CheckAsync(IServiceProvider services, CheckReport report, CancellationToken cancellationToken)
    {
        var chains = services.GetRequiredService<IOptions<ChainsOptions>>().Value;
        var options = services.GetRequiredService<IOptions<FollowerOptions>>().Value;
        var readers = services.GetRequiredService<ChainReaders>();
        IReadOnlyDictionary<string, ulong> cursors = new Dictionary<string, ulong>();
        try
        {
            var database = services.GetRequiredService<Database>();
            if (File.Exists(Path.GetFullPath(database.DataSource)))
            {
                cursors = await services.GetRequiredService<FollowerStore>().CursorsAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or StoreUnavailableException)
        {
            // No follower tables yet (a database from before this version; the bot migrates it at start) or no database.
        }

        foreach (var endpoint in chains.Endpoints.Values.OrderBy(e => e.Chain, StringComparer.Ordinal))
        {
            if (!KnownChains.TryGetFamily(endpoint.Chain, out var family) || family != ChainFamily.Evm || readers.Evm(endpoint.Chain) is not { } evm)
            {
                continue;
            }

            var settings = options.For(endpoint.Chain);
            var area = $"follower {endpoint.Chain}";
            var how = $"{settings.Confirmations} confirmation(s), {(settings.WsUrl is null ? "polling eth_blockNumber" : $"newHeads over {settings.SafeWsName}")}";
            var cursor = cursors.TryGetValue(endpoint.Chain, out var c) ? (ulong?)c : null;
            try
            {
                var head = await evm.BlockNumberAsync(cancellationToken);
                report.Ok(area, cursor is { } at
                    ? $"last processed block {at}, head {head}, lag {(head > at ? head - at : 0)} block(s) ({how})"
                    : $"not started yet: it begins at the confirmed head, block {(head > (ulong)settings.Confirmations ? head - (ulong)settings.Confirmations : 0)} ({how})");
            }
            catch (ChainReadException ex)
            {
                report.Warn(area, $"last processed block {(cursor is { } at ? at.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none yet")}, head unknown: {ex.Message}; roles still follow the scheduled re-checks");
            }
        }
    }
}
