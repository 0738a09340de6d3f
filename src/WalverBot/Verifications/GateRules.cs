using System.Globalization;
using System.Numerics;

namespace WalverBot.Verifications;

/// <summary>
/// The rules a token gate's standard, token id and tiers follow, worded to be prefixed with the key or option they
/// concern. The configuration validator and the slash commands use the same rules, so both refuse the same values.
/// </summary>
public static class GateRules
{
    /// <summary>More than any token supply needs, and within decimal's precision.</summary>
    public const decimal MaxAmount = 1_000_000_000_000_000_000m;

    /// <summary>An ERC-1155 id is a uint256 (EIP-1155: <c>balanceOf(address _owner, uint256 _id)</c>).</summary>
    private static readonly BigInteger MaxTokenId = BigInteger.Pow(2, 256) - 1;

    /// <summary>Null when <paramref name="standard"/> can be read on <paramref name="chain"/>, else why not.</summary>
    public static string? StandardProblem(string standard, string? chain)
    {
        if (!KnownChains.TryGetFamily(chain, out var family))
        {
            return "needs a chain: the chain the asset is on";
        }

        return standard switch
        {
            TokenStandards.Spl when family != ChainFamily.Solana => $"spl is Solana's token program: it cannot be read on {chain}",
            TokenStandards.Erc20 or TokenStandards.Erc721 or TokenStandards.Erc1155 when family != ChainFamily.Evm =>
                $"{standard} is an EVM token standard: on {chain} use spl (tokens) or native (the chain's own coin)",
            _ => null,
        };
    }

    /// <summary>Decimal digits of a uint256, without sign, spaces or leading zeros beyond "0".</summary>
    public static bool IsTokenId(string text) =>
        text.Length is > 0 and <= 78 && !text.AsSpan().ContainsAnyExcept("0123456789") &&
        (text.Length == 1 || text[0] != '0') &&
        BigInteger.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) <= MaxTokenId;

    /// <summary>ERC-721 and ERC-1155 balances are counts (neither standard has decimals).</summary>
    public static bool CountsWholeUnits(string standard) => standard is TokenStandards.Erc721 or TokenStandards.Erc1155;

    /// <summary>Null when a tier may start at <paramref name="amount"/>, else why not.</summary>
    public static string? TierAmountProblem(decimal amount, decimal? baseMinAmount, string standard)
    {
        if (amount <= 0)
        {
            return "must be more than 0 (whole tokens, or a count of NFTs)";
        }

        if (amount > MaxAmount)
        {
            return "is larger than any token supply";
        }

        if (CountsWholeUnits(standard) && amount != decimal.Truncate(amount))
        {
            return $"must be a whole number: an {standard} balance is a count";
        }

        var floor = baseMinAmount ?? 0m;
        return amount <= floor
            ? $"must be above the verification's MinAmount ({floor.ToString(CultureInfo.InvariantCulture)}): its own role already starts there"
            : null;
    }
}
