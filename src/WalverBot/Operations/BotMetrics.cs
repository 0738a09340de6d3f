using System.Diagnostics.Metrics;
using WalverBot.Webhooks;

namespace WalverBot.Operations;

/// <summary>
/// The bot's own metrics (meter <c>WalverBot</c>), exported on <c>/metrics</c> next to the Discord client's
/// meter and ASP.NET Core's. Counters are recorded by the code that decides; inbox gauges are read from the
/// database when Prometheus scrapes (see <see cref="InboxGauges"/>).
/// </summary>
public sealed class BotMetrics
{
    public const string MeterName = "WalverBot";
    public const string GrantLatency = "walverbot.grant.latency";
    public const string ProcessingDuration = "walverbot.grant.processing.duration";

    private readonly Counter<long> _webhooks;
    private readonly Counter<long> _grants;
    private readonly Counter<long> _decisions;
    private readonly Histogram<double> _grantLatency;
    private readonly Histogram<double> _processing;
    private readonly Counter<long> _memberLookups;

    public BotMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        _webhooks = Meter.CreateCounter<long>("walverbot.webhooks", "{webhook}", "Webhook deliveries by acceptance outcome.");
        _grants = Meter.CreateCounter<long>("walverbot.grants", "{event}", "Inbox events processed, by what became of them.");
        _decisions = Meter.CreateCounter<long>("walverbot.decisions", "{decision}", "Decisions written to the decision log, by outcome (the reason's category).");
        _grantLatency = Meter.CreateHistogram<double>(GrantLatency, "s", "From webhook accepted to role granted and recorded.");
        _processing = Meter.CreateHistogram<double>(ProcessingDuration, "s", "Time the worker spends on one inbox event.");
        _memberLookups = Meter.CreateCounter<long>("walverbot.member.lookups", "{lookup}", "Member lookups of the grant worker, by where the answer came from.");
    }

    public Meter Meter { get; }

    public void WebhookReceived(Acceptance outcome) => _webhooks.Add(1, new KeyValuePair<string, object?>("outcome", OutcomeName(outcome)));

    /// <summary>A delivery refused with 429 before it was read: its sender's address is over <c>Webhook:RateLimitPerMinute</c>.</summary>
    public void WebhookRateLimited() => _webhooks.Add(1, new KeyValuePair<string, object?>("outcome", "rate_limited"));

    /// <summary>An event ended in <paramref name="outcome"/>: granted, refused, waiting_member, failed or expired.</summary>
    public void EventFinished(string outcome) => _grants.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>A role granted (or found already held), <paramref name="sinceAccepted"/> after its webhook was stored.</summary>
    public void Granted(TimeSpan sinceAccepted)
    {
        EventFinished("granted");
        _grantLatency.Record(Math.Max(0, sinceAccepted.TotalSeconds));
    }

    /// <summary>An event left in <paramref name="status"/> without a grant (inbox status names).</summary>
    public void NotGranted(string status) => EventFinished(status == EventStatus.Done ? "refused" : status);

    public void Decided(string outcome) => _decisions.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>A member looked up from <paramref name="source"/>: directory, discord (directory incomplete or off) or discord_unknown_to_directory.</summary>
    public void MemberLookedUp(string source) => _memberLookups.Add(1, new KeyValuePair<string, object?>("source", source));

    public void Processed(TimeSpan elapsed) => _processing.Record(elapsed.TotalSeconds);

    private static string OutcomeName(Acceptance outcome) => outcome switch
    {
        Acceptance.Accepted => "accepted",
        Acceptance.Duplicate => "duplicate",
        Acceptance.Malformed => "malformed",
        Acceptance.UnknownVerification => "unknown_verification",
        Acceptance.WrongSecret => "wrong_secret",
        Acceptance.StorageUnavailable => "storage_unavailable",
        _ => "other",
    };
}
