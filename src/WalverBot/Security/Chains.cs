using System.Diagnostics.CodeAnalysis;

namespace WalverBot.Security;

/// <summary>How a chain's wallets sign messages.</summary>
public enum ChainFamily
{
    /// <summary>secp256k1, EIP-191 <c>personal_sign</c>; 65-byte signatures (r, s, v).</summary>
    Evm,

    /// <summary>Ed25519 over the message's UTF-8 bytes; 64-byte signatures.</summary>
    Solana,
}

/// <summary>The chains Walver supports, by the names its API and webhooks use.</summary>
public static class Chains
{
    public const int EvmSignatureLength = 65;
    public const int SolanaSignatureLength = 64;

    private static readonly Dictionary<string, ChainFamily> Families = new(StringComparer.OrdinalIgnoreCase)
    {
        ["solana"] = ChainFamily.Solana,
        ["ethereum"] = ChainFamily.Evm,
        ["polygon"] = ChainFamily.Evm,
        ["bsc"] = ChainFamily.Evm,
        ["base"] = ChainFamily.Evm,
        ["arbitrum"] = ChainFamily.Evm,
        ["optimism"] = ChainFamily.Evm,
        ["avalanche"] = ChainFamily.Evm,
    };

    public static bool TryGetFamily([NotNullWhen(true)] string? chain, out ChainFamily family)
    {
        family = default;
        return chain is not null && Families.TryGetValue(chain, out family);
    }

    public static int SignatureLength(ChainFamily family) =>
        family == ChainFamily.Evm ? EvmSignatureLength : SolanaSignatureLength;
}
