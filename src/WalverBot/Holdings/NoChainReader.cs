using WalverBot.Chains;

namespace WalverBot.Holdings;

/// <summary>
/// Stand-in until chain readers are registered: no chain has an RPC endpoint, so grants keep the payload's token check
/// and nothing is re-checked. Registered only when no other <see cref="IChainReader"/> is.
/// </summary>
public sealed class NoChainReader : IChainReader
{
    public bool CanRead(string chain) => false;

    public Task<HoldingsSnapshot> ReadAsync(TokenSpec token, IReadOnlyList<string> wallets, CancellationToken cancellationToken) =>
        throw new ChainReadException(token.Chain, $"no RPC endpoint is configured for {token.Chain}");
}
