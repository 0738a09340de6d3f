namespace WalverBot.Discord.Rest;

/// <summary>Limits of the REST client; fixed in production, replaced by tests.</summary>
internal sealed class DiscordRestSettings
{
    /// <summary>How long one HTTP attempt may take before it counts as a transient failure.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Attempts per call when Discord answers 429 (the first try included): one retry after <c>retry_after</c>. A second
    /// 429 in a row means the limit is not what the headers said (a shared bucket, another process on the token): the
    /// caller reschedules instead of piling up invalid requests, which Discord counts towards its 10,000-per-10-minutes
    /// ban (https://discord.com/developers/docs/topics/rate-limits#invalid-request-limit-aka-cloudflare-bans).
    /// </summary>
    public int MaxAttempts { get; init; } = 2;

    /// <summary>A 429 asking for a longer wait is not retried inside the call: the caller gets RetryAfter and reschedules.</summary>
    public TimeSpan MaxRetryWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>"All bots can make up to 50 requests per second" (https://discord.com/developers/docs/topics/rate-limits#global-rate-limit).</summary>
    public int GlobalRequestsPerSecond { get; init; } = 50;

    /// <summary>Discord bans at 10,000 invalid requests per 10 minutes; warn at a tenth of that.</summary>
    public int InvalidRequestWarningThreshold { get; init; } = 1_000;

    /// <summary>The window Discord counts invalid requests over.</summary>
    public TimeSpan InvalidRequestWindow { get; init; } = TimeSpan.FromMinutes(10);
}
