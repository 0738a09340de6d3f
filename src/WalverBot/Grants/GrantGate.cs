using WalverBot.Verifications;
using WalverBot.Webhooks;

namespace WalverBot.Grants;

/// <summary>
/// Token gating: grant only when the verification is enabled and, where it is token-gated or the payload
/// carries a token check, the check passed for the token and amount the verification asked for.
/// </summary>
public static class GrantGate
{
    public static Decision? Check(Verification verification, WalverWebhook webhook)
    {
        if (!verification.Enabled)
        {
            return Decision.Reject(Outcomes.VerificationDisabled, "the verification is disabled");
        }

        if (verification.Chain is not null && webhook.Chain is not null &&
            !string.Equals(verification.Chain, webhook.Chain, StringComparison.OrdinalIgnoreCase))
        {
            return Decision.Reject(Outcomes.TokenMismatch, $"the wallet was verified on {webhook.Chain}, the verification is for {verification.Chain}");
        }

        var check = webhook.TokenVerification;
        if (verification.IsTokenGated)
        {
            if (check is null)
            {
                return Decision.Reject(Outcomes.NotPassed, "the verification is token-gated but the delivery has no token check");
            }

            if (verification.EffectiveTokenStandard == TokenStandards.Native)
            {
                if (!IsNativeCoin(check.TokenAddress))
                {
                    return Decision.Reject(Outcomes.TokenMismatch, "the check was for a token contract, the verification asks for the chain's own coin");
                }
            }
            else if (check.TokenAddress is null || !KnownChains.SameAddress(verification.Chain, check.TokenAddress, verification.TokenAddress!))
            {
                return Decision.Reject(Outcomes.TokenMismatch, "the token checked is not the token the verification asks for");
            }

            if (verification.MinAmount is { } minimum && check.RequiredAmount < minimum)
            {
                return Decision.Reject(Outcomes.TokenMismatch, $"the amount checked ({check.RequiredAmount}) is below the verification's minimum ({minimum})");
            }
        }

        if (check is not null)
        {
            if (!check.Passed)
            {
                return Decision.Reject(Outcomes.NotPassed, "the wallet does not hold enough of the token");
            }

            if (check.ActualAmount < check.RequiredAmount)
            {
                return Decision.Reject(Outcomes.NotPassed, "the token check says passed but the amount held is below the amount required");
            }
        }

        return null;
    }

    /// <summary>
    /// A check of the chain's own coin names no token, or one of the placeholders wallets and APIs use for it: the zero
    /// address, or 0xEeee…EEeE, the native asset's address by EIP-7528.
    /// </summary>
    private static bool IsNativeCoin(string? tokenAddress) =>
        string.IsNullOrWhiteSpace(tokenAddress) ||
        tokenAddress.Trim().Equals("0x0000000000000000000000000000000000000000", StringComparison.Ordinal) ||
        tokenAddress.Trim().Equals("0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE", StringComparison.OrdinalIgnoreCase);
}
