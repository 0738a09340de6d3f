namespace WalverBot.Security;

/// <summary>What a failed wallet-signature check does (setting <c>Security:Signatures</c>).</summary>
public enum SignaturePolicy
{
    /// <summary>A delivery whose signature or message binding fails grants nothing. The default.</summary>
    Enforce,

    /// <summary>Failures are logged as decisions but the grant goes ahead (for diagnosing a new setup).</summary>
    Warn,

    /// <summary>Signatures are not checked at all.</summary>
    Off,
}

public static class SignaturePolicyExtensions
{
    /// <summary>Whether a grant may go ahead after <paramref name="check"/> under this policy.</summary>
    public static bool AllowsGrant(this SignaturePolicy policy, SignatureCheck check) =>
        policy != SignaturePolicy.Enforce || check.IsValid;
}
