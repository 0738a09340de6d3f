namespace WalverBot.Security;

/// <summary>
/// Checks that <c>signature</c> is <c>walletAddress</c>'s signature over <c>message</c> on <c>chain</c>.
/// Never throws on bad input: anything malformed is a rejection with a reason.
/// </summary>
public interface IWalletSignatureVerifier
{
    SignatureCheck Verify(string? chain, string? walletAddress, string? message, string? signature);
}
