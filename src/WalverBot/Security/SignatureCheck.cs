namespace WalverBot.Security;

/// <summary>
/// The outcome of a wallet-signature or message-binding check: valid or not, a stable machine
/// reason (one of <see cref="SignatureReasons"/>) for the decision log, and a short sentence for
/// people. <see cref="Detail"/> never echoes the signature or the message, so it is safe to log.
/// </summary>
public sealed record SignatureCheck(bool IsValid, string Reason, string Detail)
{
    public static SignatureCheck Valid(string detail) => new(true, SignatureReasons.Ok, detail);

    public static SignatureCheck Reject(string reason, string detail) => new(false, reason, detail);
}

/// <summary>Reason codes of <see cref="SignatureCheck"/>. Stable: they appear in logs and the decision log.</summary>
public static class SignatureReasons
{
    public const string Ok = "ok";

    /// <summary>The chain is missing or not one Walver supports.</summary>
    public const string UnsupportedChain = "unsupported_chain";

    /// <summary>The wallet address is missing or not shaped like an address of the chain.</summary>
    public const string BadAddress = "bad_address";

    /// <summary>The message is missing, too long, or not valid Unicode.</summary>
    public const string BadMessage = "bad_message";

    /// <summary>The signature is missing, in no accepted encoding, or of the wrong length for the chain.</summary>
    public const string BadEncoding = "bad_encoding";

    /// <summary>The signature decodes to the right length but is not a valid signature of the message by this wallet.</summary>
    public const string InvalidSignature = "invalid_signature";

    /// <summary>EVM only: the signature is well formed but recovers to a different address.</summary>
    public const string WrongSigner = "wrong_signer";

    /// <summary>The signed message does not name the wallet address.</summary>
    public const string AddressNotInMessage = "address_not_in_message";

    /// <summary>The signed message carries a verification id, and it is not this delivery's.</summary>
    public const string VerificationIdNotInMessage = "verification_id_not_in_message";
}
