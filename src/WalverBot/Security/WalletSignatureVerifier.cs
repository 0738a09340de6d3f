using System.Numerics;
using System.Text;
using NSec.Cryptography;
using Nethereum.Signer;
using WalverBot.Verifications;

namespace WalverBot.Security;

/// <summary>
/// Verifies Walver's wallet signatures: EIP-191 <c>personal_sign</c> recovery on EVM chains
/// (Nethereum), Ed25519 on Solana (NSec, i.e. libsodium). Stateless and thread-safe.
/// </summary>
public sealed class WalletSignatureVerifier : IWalletSignatureVerifier
{
    /// <summary>Longest message accepted, in UTF-16 code units; the webhook body itself is capped at 64 KiB.</summary>
    public const int MaxMessageChars = 64 * 1024;

    private const int MaxAddressChars = 128;

    // secp256k1 group order; s above n/2 is the malleated twin of a valid signature (EIP-2).
    private static readonly BigInteger Secp256k1N =
        BigInteger.Parse("115792089237316195423570985008687907852837564279074904382605163141518161494337");
    private static readonly BigInteger Secp256k1HalfN = Secp256k1N / 2;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly EthereumMessageSigner _messageSigner = new();
    private readonly SignatureAlgorithm _ed25519;

    public WalletSignatureVerifier()
    {
        // Touching the algorithm loads libsodium now, so a missing native library fails at start-up
        // rather than turning every Solana delivery into a rejection.
        _ed25519 = SignatureAlgorithm.Ed25519;
    }

    public SignatureCheck Verify(string? chain, string? walletAddress, string? message, string? signature)
    {
        if (!KnownChains.TryGetFamily(chain, out var family))
        {
            return SignatureCheck.Reject(SignatureReasons.UnsupportedChain,
                $"Chain {Describe(chain)} is not one Walver supports.");
        }

        if (string.IsNullOrEmpty(walletAddress) || walletAddress.Length > MaxAddressChars)
        {
            return SignatureCheck.Reject(SignatureReasons.BadAddress, "The wallet address is missing or too long.");
        }

        if (string.IsNullOrEmpty(message) || message.Length > MaxMessageChars)
        {
            return SignatureCheck.Reject(SignatureReasons.BadMessage,
                $"The signed message is missing or longer than {MaxMessageChars} characters.");
        }

        byte[] messageBytes;
        try
        {
            messageBytes = StrictUtf8.GetBytes(message);
        }
        catch (EncoderFallbackException)
        {
            return SignatureCheck.Reject(SignatureReasons.BadMessage, "The signed message is not valid Unicode text.");
        }

        return family == ChainFamily.Evm
            ? VerifyEvm(walletAddress, messageBytes, signature)
            : VerifySolana(walletAddress, messageBytes, signature);
    }

    private SignatureCheck VerifyEvm(string walletAddress, byte[] message, string? signature)
    {
        if (!WalletAddresses.IsEvmAddress(walletAddress))
        {
            return SignatureCheck.Reject(SignatureReasons.BadAddress,
                "The wallet address is not an EVM address (0x followed by 40 hex digits).");
        }

        var decoded = SignatureEncodings.Decode(signature, KnownChains.EvmSignatureLength);
        if (decoded.Problem is not null)
        {
            return SignatureCheck.Reject(SignatureReasons.BadEncoding, $"Unreadable EVM signature: {decoded.Problem}.");
        }

        var hash = _messageSigner.HashPrefixedMessage(message);
        SignatureCheck? firstFailure = null;
        foreach (var reading in decoded.Readings)
        {
            var check = VerifyEvmReading(walletAddress, hash, reading);
            if (check.IsValid)
            {
                return check;
            }

            firstFailure ??= check;
        }

        return firstFailure!;
    }

    private static SignatureCheck VerifyEvmReading(string walletAddress, byte[] hash, DecodedSignature reading)
    {
        var bytes = reading.Bytes;
        var r = new BigInteger(bytes.AsSpan(0, 32), isUnsigned: true, isBigEndian: true);
        var s = new BigInteger(bytes.AsSpan(32, 32), isUnsigned: true, isBigEndian: true);
        var v = bytes[64];

        // personal_sign produces v = 27/28; some wallets and libraries give the bare recovery id 0/1.
        // Values carrying a chain id (EIP-155) belong to transactions, not messages.
        int recoveryId = v switch
        {
            27 or 28 => v - 27,
            0 or 1 => v,
            _ => -1,
        };
        if (recoveryId < 0)
        {
            return SignatureCheck.Reject(SignatureReasons.InvalidSignature, $"The signature's recovery byte v = {v} is not 27, 28, 0 or 1.");
        }

        if (r.IsZero || r >= Secp256k1N || s.IsZero || s >= Secp256k1N)
        {
            return SignatureCheck.Reject(SignatureReasons.InvalidSignature, "The signature's r or s is out of range.");
        }

        if (s > Secp256k1HalfN)
        {
            // Same signer, different bytes: refusing it keeps one signature per (message, key).
            return SignatureCheck.Reject(SignatureReasons.InvalidSignature, "The signature is not canonical (high s, see EIP-2).");
        }

        string recovered;
        try
        {
            var signature = EthECDSASignatureFactory.FromComponents(bytes[..32], bytes[32..64], (byte)(27 + recoveryId));
            recovered = EthECKey.RecoverFromSignature(signature, recoveryId, hash).GetPublicAddress();
        }
        catch (Exception)
        {
            // Curve arithmetic on attacker-chosen bytes (e.g. no point has this r as x coordinate);
            // whatever the library throws, these bytes are not a recoverable signature.
            return SignatureCheck.Reject(SignatureReasons.InvalidSignature, "No public key can be recovered from the signature.");
        }

        if (!string.Equals(recovered, walletAddress, StringComparison.OrdinalIgnoreCase))
        {
            return SignatureCheck.Reject(SignatureReasons.WrongSigner,
                $"The message was signed by {WalletAddresses.Shorten(recovered)}, not by the webhook's wallet.");
        }

        return SignatureCheck.Valid($"EIP-191 signature by {WalletAddresses.Shorten(recovered)} ({reading.Encoding}).");
    }

    private SignatureCheck VerifySolana(string walletAddress, byte[] message, string? signature)
    {
        if (!WalletAddresses.TryDecodeSolanaAddress(walletAddress, out var publicKeyBytes))
        {
            return SignatureCheck.Reject(SignatureReasons.BadAddress,
                "The wallet address is not a Solana address (base58 of a 32-byte public key).");
        }

        if (!PublicKey.TryImport(_ed25519, publicKeyBytes, KeyBlobFormat.RawPublicKey, out var publicKey) || publicKey is null)
        {
            return SignatureCheck.Reject(SignatureReasons.BadAddress, "The wallet address is not a usable Ed25519 public key.");
        }

        var decoded = SignatureEncodings.Decode(signature, KnownChains.SolanaSignatureLength);
        if (decoded.Problem is not null)
        {
            return SignatureCheck.Reject(SignatureReasons.BadEncoding, $"Unreadable Solana signature: {decoded.Problem}.");
        }

        foreach (var reading in decoded.Readings)
        {
            // libsodium also refuses non-canonical S and small-order keys, which tweetnacl would accept.
            if (_ed25519.Verify(publicKey, message, reading.Bytes))
            {
                return SignatureCheck.Valid($"Ed25519 signature by {WalletAddresses.Shorten(walletAddress)} ({reading.Encoding}).");
            }
        }

        return SignatureCheck.Reject(SignatureReasons.InvalidSignature,
            $"The signature ({string.Join(" or ", decoded.Readings.Select(r => r.Encoding))}) is not this wallet's signature of this message (wrong key or altered message).");
    }

    // Chain names come from the request; only echo ones that look like a name.
    private static string Describe(string? chain) =>
        string.IsNullOrEmpty(chain) ? "(none)"
        : chain.Length <= 32 && chain.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') ? $"'{chain}'"
        : "(unprintable)";
}
