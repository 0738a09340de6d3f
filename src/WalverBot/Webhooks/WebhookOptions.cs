namespace WalverBot.Webhooks;

/// <summary>How Walver reaches the bot, and how the webhook listener protects itself.</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhook";

    /// <summary>Public https base URL that Walver can reach; the webhook is <c>{PublicBaseUrl}/webhooks/walver</c>.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>Requests per minute per client IP; sized well above a Walver burst (it retries 3 times, 30 s apart).</summary>
    public int RateLimitPerMinute { get; set; } = 600;

    /// <summary>Events whose <c>verification_time</c> is older than this are refused at acceptance.</summary>
    public TimeSpan MaxEventAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Honour X-Forwarded-For/-Proto (only behind a reverse proxy that terminates TLS).</summary>
    public bool TrustForwardedHeaders { get; set; }

    // Webhook:TrustedProxies is read by ListenerLimits.ConfiguredProxies: a list, or one comma-separated value
    // (Webhook__TrustedProxies=10.0.0.5,172.16.0.0/12), which options binding of a list would silently drop.

    /// <summary>Connections open at once (Kestrel's MaxConcurrentConnections); more are closed at once.</summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>A connection that sends nothing (a new one, or between requests) is closed after this (Kestrel's keep-alive timeout).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Request headers must arrive within this (Kestrel's RequestHeadersTimeout).</summary>
    public static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The largest body accepted: 64 KiB, far more than a Walver delivery needs, so a flood of big bodies costs little memory (README: 413).</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>How far in the future a verification_time may be (clock skew).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public Uri? WebhookUrl => PublicBaseUrl is null ? null : new Uri($"{PublicBaseUrl.TrimEnd('/')}/webhooks/walver");
}
