namespace WalverBot.Chains;

/// <summary>
/// What to read on chain: one asset of one verification. <see cref="Standard"/> is one of
/// <see cref="Verifications.TokenStandards"/>; <see cref="TokenAddress"/> is null for the native coin;
/// <see cref="TokenId"/> is set for ERC-1155 only.
/// </summary>
public sealed record TokenSpec(string Chain, string Standard, string? TokenAddress, string? TokenId);

/// <summary>How much of the asset one wallet holds: whole tokens (decimals applied) or a count of NFTs.</summary>
public sealed record WalletAmount(string Wallet, decimal Amount);

/// <summary>
/// The amounts of several wallets, all read at one block (EVM) or slot (Solana), so a caller can refuse a
/// snapshot older than one it has already acted on.
/// </summary>
public sealed record HoldingsSnapshot(IReadOnlyList<WalletAmount> Amounts, ulong BlockOrSlot);

/// <summary>
/// Reads holdings from the chains the operator gave an RPC endpoint for. Implementations read many wallets in
/// as few requests as the chain allows and never turn a failure into an amount: an RPC error, a timeout or a
/// contract that answers nothing is a <see cref="ChainReadException"/>, never "balance 0".
/// </summary>
public interface IChainReader
{
    /// <summary>Whether <paramref name="chain"/> has an RPC endpoint; without one its verifications are not re-checked.</summary>
    bool CanRead(string chain);

    /// <summary>Reads every wallet in <paramref name="wallets"/>; the answer has one amount per wallet, in the same order.</summary>
    Task<HoldingsSnapshot> ReadAsync(TokenSpec token, IReadOnlyList<string> wallets, CancellationToken cancellationToken);

    /// <summary>
    /// Reads as <see cref="ReadAsync"/> does, at the given block (EVM: eth_call's block parameter), so the transfer follower
    /// acts on confirmed state only. Readers that cannot read at a block say so.
    /// </summary>
    Task<HoldingsSnapshot> ReadAtAsync(TokenSpec token, IReadOnlyList<string> wallets, ulong block, CancellationToken cancellationToken) =>
        throw new ChainReadException(token.Chain, $"{token.Chain}: this reader cannot read at a given block");
}

/// <summary>A read that gave no trustworthy answer. <see cref="Exception.Message"/> is safe to show an admin (no RPC keys).</summary>
public sealed class ChainReadException(string chain, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Chain { get; } = chain;
}
