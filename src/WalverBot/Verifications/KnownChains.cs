using System.Diagnostics.CodeAnalysis;

namespace WalverBot.Verifications;

/// <summary>How a chain's wallets sign messages.</summary>
public enum ChainFamily
{
    /// <summary>secp256k1, EIP-191 <c>personal_sign</c>; 65-byte signatures (r, s, v).</summary>
    Evm,

    /// <summary>Ed25519 over the message's UTF-8 bytes; 64-byte signatures.</summary>
    Solana,
}

/// <summary>The chains Walver supports, by the names its API and webhooks use.</summary>
public static class KnownChains
{
    public const string Solana = "solana";
    public const int EvmSignatureLength = 65;
    public const int SolanaSignatureLength = 64;

    private static readonly Dictionary<string, ChainFamily> Families = new(StringComparer.OrdinalIgnoreCase)
    {
        [Solana] = ChainFamily.Solana,
        ["ethereum"] = ChainFamily.Evm,
        ["polygon"] = ChainFamily.Evm,
        ["bsc"] = ChainFamily.Evm,
        ["base"] = ChainFamily.Evm,
        ["arbitrum"] = ChainFamily.Evm,
        ["optimism"] = ChainFamily.Evm,
        ["avalanche"] = ChainFamily.Evm,
    };

    public static IReadOnlyList<string> All { get; } = [.. Families.Keys];

    public static bool IsKnown([NotNullWhen(true)] string? chain) => chain is not null && Families.ContainsKey(chain);

    public static bool TryGetFamily([NotNullWhen(true)] string? chain, out ChainFamily family)
    {
        family = default;
        return chain is not null && Families.TryGetValue(chain, out family);
    }

    /// <summary>EVM addresses are case-insensitive (checksums only change case); Solana's base58 addresses are not.</summary>
    public static bool SameAddress(string? chain, string a, string b)
    {
        var evm = TryGetFamily(chain, out var family) ? family == ChainFamily.Evm : LooksEvm(a.Trim());
        return string.Equals(a.Trim(), b.Trim(), evm ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    /// <summary>The form of a wallet address used as a key: EVM addresses lower-cased, others as given.</summary>
    public static string NormalizeAddress(string address)
    {
        var trimmed = address.Trim();
        return LooksEvm(trimmed) ? trimmed.ToLowerInvariant() : trimmed;
    }

    private static bool LooksEvm(string address) =>
        address.Length == 42 && address.StartsWith("0x", StringComparison.OrdinalIgnoreCase) &&
        !address.AsSpan(2).ContainsAnyExcept("0123456789abcdefABCDEF");
}
