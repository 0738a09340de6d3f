namespace WalverBot.Grants;

/// <summary>How grants are decided and retried.</summary>
public sealed class GrantOptions
{
    public const string SectionName = "Grants";

    /// <summary>How long a grant waits for a member who is not (yet) in the guild.</summary>
    public TimeSpan PendingTtl { get; set; } = TimeSpan.FromDays(7);

    /// <summary>A wallet verified for one member of a guild cannot grant roles to another member of that guild.</summary>
    public bool OneMemberPerWallet { get; set; } = true;

    /// <summary>Attempts for transient Discord failures before an event is marked failed.</summary>
    public int MaxAttempts { get; set; } = 12;
}

/// <summary>Which roles the bot agrees to hand out.</summary>
public sealed class RoleOptions
{
    public const string SectionName = "Roles";

    /// <summary>Allow roles carrying dangerous permissions (Administrator, Manage Server/Roles/Channels/Webhooks, Ban, Kick).</summary>
    public bool AllowPrivileged { get; set; }
}
