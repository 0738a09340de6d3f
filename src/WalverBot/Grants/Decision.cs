namespace WalverBot.Grants;

/// <summary>The outcome names written to the decision log; admins see them in /walver status.</summary>
public static class Outcomes
{
    public const string Granted = "granted";
    public const string Duplicate = "duplicate";
    public const string PendingMember = "pending_member";
    public const string NotPassed = "not_passed";
    public const string TokenMismatch = "token_mismatch";
    public const string AmbiguousMember = "ambiguous_member";
    public const string InvalidUsername = "invalid_username";
    public const string WalletConflict = "wallet_conflict";
    public const string RejectedSignature = "rejected_signature";
    public const string CodeRejected = "code_rejected";
    public const string RoleUnsafe = "role_unsafe";
    public const string DiscordError = "discord_error";
    public const string VerificationDisabled = "verification_disabled";
    public const string PendingExpired = "pending_expired";
    public const string UnreadablePayload = "unreadable_payload";
    public const string InternalError = "internal_error";
    public const string BotAccount = "bot_account";
    public const string UnresolvedMember = "unresolved_member";
    /// <summary>Written by <see cref="GrantLedger.RecordRevocationAsync"/> when an admin removes a role.</summary>
    public const string Revoked = "revoked";
    /// <summary>ReverifyAfter passed since the member's last verification of a verification without a token gate: role removed.</summary>
    public const string RevokedReverify = "revoked_reverify";
}

/// <summary>A decision about one webhook event, with the reason an admin reads.</summary>
public sealed record Decision(string Outcome, string Reason)
{
    public static Decision Reject(string outcome, string reason) => new(outcome, reason);
}
