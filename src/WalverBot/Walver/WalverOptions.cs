namespace WalverBot.Walver;

/// <summary>Access to Walver's API, needed to create verifications from Discord.</summary>
public sealed class WalverOptions
{
    public const string SectionName = "Walver";

    /// <summary>Walver API key; required for <c>/walver create</c>. Never logged.</summary>
    public string? ApiKey { get; set; }

    public string BaseUrl { get; set; } = "https://walver.io";

    /// <summary>How long one request to Walver may take before it is abandoned (and retried).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries after a 5xx answer or no answer; 4xx answers (409, 429, 422…) are never retried.</summary>
    public int MaxRetries { get; set; } = 2;
}
