namespace WalverBot.Verifications;

/// <summary>The chains Walver supports, and which of them are EVM chains.</summary>
public static class Chains
{
    public const string Solana = "solana";

    public static readonly IReadOnlyList<string> All = [Solana, "ethereum", "polygon", "bsc", "base", "arbitrum", "optimism", "avalanche"];

    public static bool IsKnown(string? chain) => chain is not null && All.Contains(chain, StringComparer.OrdinalIgnoreCase);

    public static bool IsEvm(string? chain) => IsKnown(chain) && !string.Equals(chain, Solana, StringComparison.OrdinalIgnoreCase);

    /// <summary>EVM addresses are case-insensitive (checksums only change case); Solana's base58 addresses are not.</summary>
    public static bool SameAddress(string? chain, string a, string b) =>
        string.Equals(a.Trim(), b.Trim(), IsEvm(chain) || LooksEvm(a) ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>The form of a wallet address used as a key: EVM addresses lower-cased, others as given.</summary>
    public static string NormalizeAddress(string address)
    {
        var trimmed = address.Trim();
        return LooksEvm(trimmed) ? trimmed.ToLowerInvariant() : trimmed;
    }

    private static bool LooksEvm(string address) =>
        address.Length == 42 && address.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && address.AsSpan(2).ContainsAnyExcept("0123456789abcdefABCDEF") == false;
}
