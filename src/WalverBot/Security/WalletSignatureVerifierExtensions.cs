namespace WalverBot.Security;

public static class WalletSignatureVerifierExtensions
{
    /// <summary>
    /// Everything a webhook delivery's proof must pass: the signature is the wallet's over the
    /// message, and the message binds to this wallet and verification (<see cref="MessageBinding"/>).
    /// The signature is checked first, so its reason wins when both fail.
    /// </summary>
    public static SignatureCheck VerifyDelivery(
        this IWalletSignatureVerifier verifier,
        string? chain,
        string? walletAddress,
        string? message,
        string? signature,
        string? verificationId,
        bool requireVerificationId = false)
    {
        var signatureCheck = verifier.Verify(chain, walletAddress, message, signature);
        if (!signatureCheck.IsValid)
        {
            return signatureCheck;
        }

        var binding = MessageBinding.Check(message, walletAddress, verificationId, requireVerificationId);
        return binding.IsValid
            ? signatureCheck with { Detail = $"{signatureCheck.Detail} {binding.Detail}" }
            : binding;
    }
}
