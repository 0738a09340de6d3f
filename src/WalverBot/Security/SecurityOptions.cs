namespace WalverBot.Security;

/// <summary>Settings of the <c>Security</c> configuration section.</summary>
public sealed class SecurityOptions
{
    public const string SectionName = "Security";

    /// <summary>What a failed wallet-signature check does; <see cref="SignaturePolicy.Enforce"/> unless configured.</summary>
    public SignaturePolicy Signatures { get; set; } = SignaturePolicy.Enforce;
}
