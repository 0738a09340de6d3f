using System.Text.RegularExpressions;

namespace WalverBot.Security;

/// <summary>
/// Checks that a signed message belongs to this delivery, so that a genuine signature made for
/// something else (another site's log-in, another verification) cannot be replayed here.
/// </summary>
/// <remarks>
/// Walver does not document the text it asks wallets to sign. What we assume: it is plain text
/// that names the wallet address verbatim, and it may name the verification it was made for with
/// a label such as <c>Verification ID: …</c>, <c>verification_id=…</c> or <c>ID: …</c>. So:
/// <list type="bullet">
/// <item>the wallet address must appear as a whole token (not inside a longer run of letters and
/// digits); case-insensitively for EVM addresses, whose case is only a checksum, exactly for
/// base58 (Solana) addresses, whose case is meaningful;</item>
/// <item>the verification id, when it appears as a whole token, binds the message; when it does not
/// appear but the message carries an id label, the message was made for another verification and is
/// refused; when the message carries no id label at all, the address alone binds it, unless the
/// caller requires the id.</item>
/// </list>
/// If Walver's real format turns out to carry the id without a label, pass
/// <c>requireVerificationId: true</c>.
/// </remarks>
public static partial class MessageBinding
{
    public static SignatureCheck Check(string? message, string? walletAddress, string? verificationId, bool requireVerificationId = false)
    {
        if (string.IsNullOrEmpty(message) || message.Length > WalletSignatureVerifier.MaxMessageChars)
        {
            return SignatureCheck.Reject(SignatureReasons.BadMessage, "The signed message is missing or too long.");
        }

        if (string.IsNullOrWhiteSpace(walletAddress))
        {
            return SignatureCheck.Reject(SignatureReasons.BadAddress, "The wallet address is missing.");
        }

        var addressComparison = WalletAddresses.IsEvmAddress(walletAddress)
            ? StringComparison.OrdinalIgnoreCase
            : StringComparison.Ordinal;
        if (!ContainsToken(message, walletAddress, addressComparison, IsAddressChar))
        {
            return SignatureCheck.Reject(SignatureReasons.AddressNotInMessage,
                "The signed message does not name the wallet address, so it was not made for this verification.");
        }

        if (string.IsNullOrWhiteSpace(verificationId))
        {
            return requireVerificationId
                ? SignatureCheck.Reject(SignatureReasons.VerificationIdNotInMessage, "No verification id to look for in the signed message.")
                : SignatureCheck.Valid("The signed message names the wallet address.");
        }

        if (ContainsToken(message, verificationId, StringComparison.Ordinal, IsIdChar))
        {
            return SignatureCheck.Valid("The signed message names the wallet address and this verification.");
        }

        if (requireVerificationId || IdLabel().IsMatch(message))
        {
            return SignatureCheck.Reject(SignatureReasons.VerificationIdNotInMessage,
                "The signed message was made for a different verification.");
        }

        return SignatureCheck.Valid("The signed message names the wallet address (it carries no verification id).");
    }

    /// <summary>Whether <paramref name="token"/> occurs in <paramref name="text"/> not flanked by token characters.</summary>
    private static bool ContainsToken(string text, string token, StringComparison comparison, Func<char, bool> isTokenChar)
    {
        for (var start = 0; start <= text.Length - token.Length;)
        {
            var at = text.IndexOf(token, start, comparison);
            if (at < 0)
            {
                return false;
            }

            var end = at + token.Length;
            var boundedLeft = at == 0 || !isTokenChar(text[at - 1]);
            var boundedRight = end == text.Length || !isTokenChar(text[end]);
            if (boundedLeft && boundedRight)
            {
                return true;
            }

            start = at + 1;
        }

        return false;
    }

    private static bool IsAddressChar(char c) => char.IsAsciiLetterOrDigit(c);

    // Ids like "wb-7f3a9c21-holders": "wb-7f3a9c21-holders-eth" is another id, not a mention of this one.
    private static bool IsIdChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';

    // Linear-time engine: the message is attacker-controlled text of up to 64 K characters.
    [GeneratedRegex(@"\b(?:verification[ _-]?id|id)\s*[:=]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex IdLabel();
}
