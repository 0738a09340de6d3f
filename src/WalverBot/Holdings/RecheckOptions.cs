namespace WalverBot.Holdings;

/// <summary>How often holdings are read again, and how carefully roles are taken away.</summary>
public sealed class RecheckOptions
{
    public const string SectionName = "Rechecks";

    /// <summary>Every linked wallet of a token-gated verification is read once per interval, at its own point in it.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>A role goes only after two failed checks at least this far apart.</summary>
    public TimeSpan Grace { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Safe-removal breaker: when more than this share of a verification's holders (and more than one) would lose a
    /// role, nothing is removed and the verification is paused until an admin confirms.
    /// </summary>
    public decimal MaxRemovalFraction { get; set; } = 0.1m;
}
