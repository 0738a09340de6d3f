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
    /// <summary>A holdings re-check found the amount below a role's minimum at two checks a grace apart and removed the role.</summary>
    public const string RevokedHoldings = "revoked_holdings";
    /// <summary>A role given back after holdings took it away, or to a member who rejoined the server.</summary>
    public const string Regranted = "regranted";
    /// <summary>The safe-removal breaker stopped a verification's re-checks from removing anything until an admin confirms.</summary>
    public const string RecheckPaused = "recheck_paused";
    /// <summary>The chain could not be read at grant time for <c>Grants:RetryFor</c>; nothing was granted on the payload alone.</summary>
    public const string ChainUnavailable = "chain_unavailable";
}

/// <summary>A decision about one webhook event, with the reason an admin reads.</summary>
public sealed record Decision(string Outcome, string Reason)
{
    public static Decision Reject(string outcome, string reason) => new(outcome, reason);
}
