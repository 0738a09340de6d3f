using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using WalverBot.Operations;

namespace WalverBot.Following;

/// <summary>Where one chain's follower is: what metrics and <c>check</c> show. Updated by the follower, read from any thread.</summary>
public sealed class FollowerState(string chain)
{
    private long _head = -1;
    private long _processed = -1;
    private long _reorgs;
    private long _logs;
    private int _subscribed;

    public string Chain => chain;

    public long Head => Interlocked.Read(ref _head);

    public long Processed => Interlocked.Read(ref _processed);

    /// <summary>Blocks between the newest head seen and the last processed block (Confirmations included), or null before both are known.</summary>
    public long? Lag => Head < 0 || Processed < 0 ? null : Math.Max(0, Head - Processed);

    public long Reorgs => Interlocked.Read(ref _reorgs);

    public long Logs => Interlocked.Read(ref _logs);

    /// <summary>Whether a newHeads WebSocket subscription is live (otherwise heads are polled).</summary>
    public bool Subscribed => Volatile.Read(ref _subscribed) == 1;

    public void HeadSeen(ulong head)
    {
        long current;
        do
        {
            current = Interlocked.Read(ref _head);
            if ((long)head <= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _head, (long)head, current) != current);
    }

    public void ProcessedUpTo(ulong block) => Interlocked.Exchange(ref _processed, (long)block);

    public void Reorged(ulong forkPoint)
    {
        Interlocked.Increment(ref _reorgs);
        Interlocked.Exchange(ref _processed, (long)forkPoint);
    }

    public void LogsProcessed(int count) => Interlocked.Add(ref _logs, count);

    public void SetSubscribed(bool up) => Volatile.Write(ref _subscribed, up ? 1 : 0);
}

/// <summary>
/// Every follower's state, by chain, and its metrics on the bot's meter: head seen, last processed block and lag as
/// gauges, reorgs and logs as counters (observed, so they are exported as Prometheus counters).
/// </summary>
public sealed class FollowerStates
{
    private readonly ConcurrentDictionary<string, FollowerState> _states = new(StringComparer.OrdinalIgnoreCase);

    public FollowerStates(IMeterFactory meterFactory)
    {
        // The same Meter as BotMetrics (the factory keeps one per name), so /metrics exports these without another AddMeter.
        var meter = meterFactory.Create(BotMetrics.MeterName);
        meter.CreateObservableGauge("walverbot.follower.head_block", () => Measure(s => s.Head), "{block}", "Newest block number the transfer follower has seen, per chain.");
        meter.CreateObservableGauge("walverbot.follower.processed_block", () => Measure(s => s.Processed), "{block}", "Last block the transfer follower processed (Confirmations deep), per chain.");
        meter.CreateObservableGauge("walverbot.follower.lag", () => Measure(s => s.Lag ?? -1), "{block}", "Blocks between the head seen and the last processed block, per chain (Confirmations included).");
        meter.CreateObservableCounter("walverbot.follower.reorgs", () => Measure(s => s.Reorgs, all: true), "{reorg}", "Reorgs the transfer follower found and re-read, per chain.");
        meter.CreateObservableCounter("walverbot.follower.logs", () => Measure(s => s.Logs, all: true), "{log}", "Transfer logs the transfer follower processed, per chain.");
    }

    public FollowerState For(string chain) => _states.GetOrAdd(chain.ToLowerInvariant(), c => new FollowerState(c));

    public IReadOnlyList<FollowerState> All => [.. _states.Values.OrderBy(s => s.Chain, StringComparer.Ordinal)];

    private IEnumerable<Measurement<long>> Measure(Func<FollowerState, long> value, bool all = false) =>
        _states.Values.Where(s => all || value(s) >= 0).Select(s => new Measurement<long>(value(s), new KeyValuePair<string, object?>("chain", s.Chain)));
}
