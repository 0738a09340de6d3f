using Dapper;
using Microsoft.Extensions.Options;
using WalverBot.Chains;
using WalverBot.Holdings;
using WalverBot.Storage;
using WalverBot.Verifications;

namespace WalverBot.SolanaRealTime;

/// <summary>A linked wallet of a verification that an account's change concerns.</summary>
public sealed record WatchedWallet(string VerificationId, string Wallet);

/// <summary>
/// Which accounts to watch: for every linked wallet of an enabled, re-checked Solana verification, its token accounts of the
/// gated mint (getTokenAccountsByOwner with the mint filter), or the wallet itself for a native SOL gate (its lamports).
/// A wallet with no token account yet (it never held the token, or closed the account when it sold) is asked again every
/// <see cref="SolanaSubscriptionTuning.EmptyOwnerRefresh"/>: an account created by a buy is watched from then on, and until
/// then the scheduled re-check reads that wallet as before. Deriving the associated token account instead would miss
/// accounts that are not associated ones and Token-2022 mints, and re-reading every owner every minute costs one RPC
/// request per wallet per minute, so owners already known are not read again.
/// </summary>
public sealed class SolanaWatchlist(
    Database database, VerificationStore verifications, IChainReader reader, ChainReaders readers,
    IOptions<SolanaSubscriptionTuning> tuning, TimeProvider time, ILogger<SolanaWatchlist> logger)
{
    private readonly Dictionary<(string Mint, string Owner), (IReadOnlyList<string> Accounts, DateTimeOffset ReadAt)> _owners = [];

    /// <summary>Watched account → the linked wallets its changes concern.</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<WatchedWallet>>> ReadAsync(CancellationToken cancellationToken)
    {
        List<(string VerificationId, string Wallet)> rows;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            rows = [.. await connection.QueryAsync<(string, string)>(new CommandDefinition("""
                SELECT w.verification_id, w.wallet_address FROM holdings_wallets w JOIN verifications v ON v.id = w.verification_id
                WHERE v.enabled = 1 AND lower(v.chain) = 'solana'
                ORDER BY w.verification_id, w.wallet_address
                """, cancellationToken: cancellationToken))];
        }

        var watch = new Dictionary<string, List<WatchedWallet>>(StringComparer.Ordinal);
        var seen = new HashSet<(string, string)>();
        var now = time.GetUtcNow();
        foreach (var group in rows.GroupBy(r => r.VerificationId))
        {
            var verification = await verifications.FindAsync(group.Key, cancellationToken);
            if (verification is null || !HoldingsTiers.IsRechecked(verification, reader))
            {
                continue;
            }

            var token = HoldingsTiers.Token(verification);
            if (string.Equals(token.Standard, TokenStandards.Native, StringComparison.OrdinalIgnoreCase))
            {
                foreach (var (_, wallet) in group)
                {
                    Add(watch, wallet, new WatchedWallet(group.Key, wallet));
                }

                continue;
            }

            if (token.TokenAddress is not { } mint || readers.Solana(SolanaSubscriptionOptions.Chain) is not { } solana)
            {
                continue;
            }

            var owners = group.Select(r => r.Wallet).ToList();
            var toRead = owners.Where(o => !_owners.TryGetValue((mint, o), out var known) ||
                (known.Accounts.Count == 0 && now - known.ReadAt >= tuning.Value.EmptyOwnerRefresh)).ToList();
            if (toRead.Count > 0)
            {
                try
                {
                    var accounts = await solana.TokenAccountsAsync(mint, toRead, cancellationToken);
                    for (var i = 0; i < toRead.Count; i++)
                    {
                        _owners[(mint, toRead[i])] = (accounts[i], now);
                    }
                }
                catch (ChainReadException ex)
                {
                    // Those wallets are not watched until a later resync reads them; the scheduled re-check still covers them.
                    logger.LogWarning("Could not list the token accounts of {Count} Solana wallet(s) of verification {VerificationId}: {Error}; they are watched once a later resync reads them",
                        toRead.Count, group.Key, ex.Message);
                }
            }

            foreach (var owner in owners)
            {
                seen.Add((mint, owner));
                if (_owners.TryGetValue((mint, owner), out var known))
                {
                    foreach (var account in known.Accounts)
                    {
                        Add(watch, account, new WatchedWallet(group.Key, owner));
                    }
                }
            }
        }

        foreach (var gone in _owners.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            _owners.Remove(gone);
        }

        return watch.ToDictionary(p => p.Key, p => (IReadOnlyList<WatchedWallet>)p.Value, StringComparer.Ordinal);
    }

    /// <summary>An account was closed or emptied: read its owner's token accounts again at the next resync.</summary>
    public void Forget(string wallet)
    {
        foreach (var key in _owners.Keys.Where(k => k.Owner == wallet).ToList())
        {
            _owners.Remove(key);
        }
    }

    private static void Add(Dictionary<string, List<WatchedWallet>> watch, string account, WatchedWallet wallet)
    {
        if (!watch.TryGetValue(account, out var list))
        {
            watch[account] = list = [];
        }

        if (!list.Contains(wallet))
        {
            list.Add(wallet);
        }
    }
}
