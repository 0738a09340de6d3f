using System.Diagnostics.Metrics;
using WalverBot.Operations;

namespace WalverBot.SolanaRealTime;

/// <summary>
/// Where the Solana subscriber is, for metrics (<c>walverbot_chain_subscription_*{chain="solana"}</c>) and tests:
/// whether the subscription is up, how many accounts it watches, notifications received and re-subscriptions.
/// </summary>
public sealed class SolanaSubscriptionStatus
{
    private static readonly KeyValuePair<string, object?> ChainTag = new("chain", SolanaSubscriptionOptions.Chain);
    private readonly Counter<long> _notifications;
    private readonly Counter<long> _resubscribes;
    private int _up;
    private int _accounts;
    private int _ignored;
    private int _matched;
    private int _sessions;
    private int _queued;
    private int _run;

    public SolanaSubscriptionStatus(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(BotMetrics.MeterName);
        meter.CreateObservableGauge("walverbot.chain.subscription.up", () => new Measurement<int>(Volatile.Read(ref _up), ChainTag),
            description: "1 while the chain's real-time subscription is connected and subscribed; 0 while roles follow the scheduled re-check only.");
        meter.CreateObservableGauge("walverbot.chain.subscription.accounts", () => new Measurement<int>(Volatile.Read(ref _accounts), ChainTag),
            "{account}", "Accounts the real-time subscription watches.");
        _notifications = meter.CreateCounter<long>("walverbot.chain.subscription.notifications", "{notification}",
            "Account notifications received, by whether they matched a watched account (a re-check) or not (ignored).");
        _resubscribes = meter.CreateCounter<long>("walverbot.chain.subscription.resubscribes", "{session}",
            "Times the subscriptions were sent again on a new connection after a drop.");
    }

    public bool Up => Volatile.Read(ref _up) == 1;

    public int Accounts => Volatile.Read(ref _accounts);

    /// <summary>Notifications that matched no watched account: nothing was done.</summary>
    public int Ignored => Volatile.Read(ref _ignored);

    /// <summary>Notifications that led to a re-check.</summary>
    public int Matched => Volatile.Read(ref _matched);

    /// <summary>Connections that got subscribed, the first included.</summary>
    public int Sessions => Volatile.Read(ref _sessions);

    /// <summary>Re-checks queued by notifications (several notifications of one account waiting together queue one).</summary>
    public int RechecksQueued => Volatile.Read(ref _queued);

    /// <summary>Queued re-checks that have run (or failed).</summary>
    public int RechecksRun => Volatile.Read(ref _run);

    internal void RecheckQueued() => Interlocked.Increment(ref _queued);

    internal void RecheckRun() => Interlocked.Increment(ref _run);

    internal void SetUp(bool up) => Volatile.Write(ref _up, up ? 1 : 0);

    internal void SetAccounts(int count) => Volatile.Write(ref _accounts, count);

    internal void SessionStarted()
    {
        if (Interlocked.Increment(ref _sessions) > 1)
        {
            _resubscribes.Add(1, ChainTag);
        }
    }

    internal void Notification(bool matched)
    {
        Interlocked.Increment(ref matched ? ref _matched : ref _ignored);
        _notifications.Add(1, ChainTag, new KeyValuePair<string, object?>("matched", matched ? "true" : "false"));
    }
}
