namespace WalverBot.Walver;

/// <summary>Access to Walver's API, needed to create verifications from Discord.</summary>
public sealed class WalverOptions
{
    public const string SectionName = "Walver";

    /// <summary>Walver API key; required for <c>/walver create</c>. Never logged.</summary>
    public string? ApiKey { get; set; }

    public string BaseUrl { get; set; } = "https://walver.io";
}
