using Dapper;
using Microsoft.Extensions.Options;
using WalverBot.Operations;
using WalverBot.Storage;
using WalverBot.Verifications;

namespace WalverBot.Chains;

/// <summary>Which chains the enabled token-gated verifications use, and which of them the bot cannot read.</summary>
public static class ChainCoverage
{
    /// <summary>Token-gated, enabled verifications by chain (lower-case): a token address, or a native-coin gate with a minimum.</summary>
    public static async Task<IReadOnlyDictionary<string, int>> GatedChainsAsync(Database database, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Chain, long Count)>(
            """
            SELECT lower(chain), COUNT(*) FROM verifications
            WHERE enabled = 1 AND chain IS NOT NULL AND chain <> ''
              AND ((token_address IS NOT NULL AND token_address <> '') OR (lower(token_standard) = 'native' AND min_amount IS NOT NULL))
            GROUP BY lower(chain) ORDER BY lower(chain)
            """);
        return rows.ToDictionary(r => r.Chain, r => (int)r.Count, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary><c>check</c>: one line per configured chain (host, answers or not, chain id) and per gated chain without an endpoint.</summary>
    public static async Task CheckAsync(IServiceProvider services, CheckReport report, CancellationToken cancellationToken)
    {
        var options = services.GetRequiredService<IOptions<ChainsOptions>>().Value;
        var readers = services.GetRequiredService<ChainReaders>();
        foreach (var endpoint in options.Endpoints.Values.OrderBy(e => e.Chain, StringComparer.Ordinal))
        {
            var area = $"chain {endpoint.Chain}";
            try
            {
                if (readers.Evm(endpoint.Chain) is { } evm)
                {
                    var chainId = await evm.ChainIdAsync(cancellationToken);
                    var block = await evm.BlockNumberAsync(cancellationToken);
                    report.Ok(area, $"{endpoint.SafeName} answers (chain id {chainId}, block {block}, {endpoint.RequestsPerSecond} request(s)/s)");
                }
                else if (readers.Solana(endpoint.Chain) is { } solana)
                {
                    var health = await solana.HealthAsync(cancellationToken);
                    var slot = await solana.SlotAsync(cancellationToken);
                    report.Ok(area, $"{endpoint.SafeName} answers (getHealth {health}, slot {slot}, {endpoint.RequestsPerSecond} request(s)/s)");
                }
            }
            catch (ChainReadException ex)
            {
                report.Problem(area, $"{ex.Message}; its verifications are not re-checked until it answers");
            }
        }

        IReadOnlyDictionary<string, int> gated;
        try
        {
            var database = services.GetRequiredService<Database>();
            gated = database.IsPostgres || File.Exists(Path.GetFullPath(database.DataSource)) ? await GatedChainsAsync(database, cancellationToken) : new Dictionary<string, int>();
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or StoreUnavailableException)
        {
            return; // the database line already says what is wrong
        }

        foreach (var (chain, count) in gated.Where(g => !options.Endpoints.ContainsKey(g.Key)))
        {
            report.Warn($"chain {chain}", $"Chains:{chain}:RpcUrl is not set: its {count} token-gated verification(s) are not re-checked");
        }
    }
}

/// <summary>At start: one warning per chain that token-gated verifications use but that has no RPC endpoint.</summary>
public sealed class ChainCoverageReporter(Database database, IOptions<ChainsOptions> options, ILogger<ChainCoverageReporter> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<string, int> gated;
        try
        {
            gated = await ChainCoverage.GatedChainsAsync(database, cancellationToken);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or StoreUnavailableException)
        {
            // Not a reason to stop the bot: webhooks must still be accepted; the store's own checks report the cause.
            logger.LogWarning("Cannot list the chains of token-gated verifications: {Reason}", ex.Message);
            return;
        }

        foreach (var (chain, count) in gated.Where(g => !options.Value.Endpoints.ContainsKey(g.Key)))
        {
            logger.LogWarning("Chain {Chain} has no RPC endpoint ({Key} is not set): its {Count} token-gated verification(s) are not re-checked", chain, $"Chains:{chain}:RpcUrl", count);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
