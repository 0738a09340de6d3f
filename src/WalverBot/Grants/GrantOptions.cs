namespace WalverBot.Grants;

/// <summary>How grants are decided and retried.</summary>
public sealed class GrantOptions
{
    public const string SectionName = "Grants";

    /// <summary>How long a grant waits for a member who is not (yet) in the guild.</summary>
    public TimeSpan PendingTtl { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How often every pending grant is checked against the server's members, for joins the gateway never announced
    /// (a guild is also checked whenever it arrives on a new gateway session). Slow on purpose: each check is one
    /// gateway request per 100 waiting user ids and per waiting username.
    /// </summary>
    public TimeSpan PendingRecheck { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A wallet verified for one member of a guild cannot grant roles to another member of that guild.</summary>
    public bool OneMemberPerWallet { get; set; } = true;

    /// <summary>
    /// How long an event keeps being retried while Discord fails (5xx, timeouts, 429), counted from its arrival;
    /// retries come at most a minute apart, so a grant follows within a minute of Discord's recovery.
    /// </summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>Which roles the bot agrees to hand out.</summary>
public sealed class RoleOptions
{
    public const string SectionName = "Roles";

    /// <summary>Allow roles carrying dangerous permissions (Administrator, Manage Server/Roles/Channels/Webhooks, Ban, Kick).</summary>
    public bool AllowPrivileged { get; set; }
}
