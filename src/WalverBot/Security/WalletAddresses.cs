using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using SimpleBase;

namespace WalverBot.Security;

/// <summary>Shape checks of wallet addresses; no network, no checksum enforcement.</summary>
public static class WalletAddresses
{
    public const int SolanaPublicKeyLength = 32;

    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary><c>0x</c> followed by exactly 40 hex digits, any case (EIP-55 checksums are not required).</summary>
    public static bool IsEvmAddress([NotNullWhen(true)] string? address) =>
        address is { Length: 42 } && address[0] == '0' && (address[1] == 'x' || address[1] == 'X')
        && !address.AsSpan(2).ContainsAnyExcept(HexDigits);

    /// <summary>A base58 (Bitcoin alphabet) string that decodes to a 32-byte Ed25519 public key.</summary>
    public static bool TryDecodeSolanaAddress([NotNullWhen(true)] string? address, [NotNullWhen(true)] out byte[]? publicKey)
    {
        publicKey = null;
        // 32 bytes take at most 44 base58 characters (and at least 32, all '1's being zero bytes).
        if (address is null || address.Length is < 32 or > 44)
        {
            return false;
        }

        var bytes = SignatureEncodings.TryDecodeBase58(address);
        if (bytes is not { Length: SolanaPublicKeyLength })
        {
            return false;
        }

        publicKey = bytes;
        return true;
    }

    /// <summary>A loggable short form: <c>0x859F…34f0</c>. Never throws.</summary>
    public static string Shorten(string? address) =>
        address switch
        {
            null or "" => "(none)",
            { Length: <= 12 } => address,
            _ => $"{address[..6]}…{address[^4..]}",
        };
}
