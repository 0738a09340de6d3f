using Microsoft.Extensions.Logging;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// Spaces IDENTIFY calls of all shards of the process the way Discord requires
/// (https://discord.com/developers/docs/topics/gateway#session-start-limit-object and #sharding-max-concurrency):
/// shards share a rate-limit bucket <c>shard_id % max_concurrency</c>, one IDENTIFY per bucket every 5 seconds,
/// and no more IDENTIFYs than <c>remaining</c> until <c>reset_after</c> (exceeding it resets the token).
/// We keep a bucket's IDENTIFYs <see cref="BucketSpacing"/> (6 s, Discord's 5 s plus a margin) apart. Discord counts
/// its window as IDENTIFYs arrive, so a turn also waits <see cref="BucketSpacing"/> after the bucket's previous IDENTIFY
/// actually went out (<see cref="IdentifySent"/>): connecting takes longer some times than others.
/// </summary>
internal sealed class IdentifyGate
{
    // Discord's window is 5 s, counted as IDENTIFYs arrive. Arrival times jitter (network, a busy host), and one that
    // lands a few milliseconds early is answered with op 9, which costs a 1–5 s wait and another IDENTIFY; so keep a
    // margin of a second. (Half a second was not always enough: on a loaded 2-core machine the fake gateway, which
    // counts from when it reads the IDENTIFY, saw less than 5 s between IDENTIFYs sent 5.5 s apart.)
    public static readonly TimeSpan BucketSpacing = TimeSpan.FromSeconds(6);
    // Discord does not say how long the next period lasts; a day is what it documents for the default limit.
    private static readonly TimeSpan AssumedPeriod = TimeSpan.FromDays(1);

    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _maxConcurrency;
    private readonly int _total;
    private readonly Dictionary<int, DateTimeOffset> _bucketFreeAt = [];
    private readonly Dictionary<int, DateTimeOffset> _bucketLastSent = [];
    private readonly Lock _lock = new();
    private int _remaining;
    private DateTimeOffset _resetAt;

    public IdentifyGate(SessionStartLimit limit, TimeProvider time, ILogger logger)
    {
        _time = time;
        _logger = logger;
        _maxConcurrency = Math.Max(1, limit.MaxConcurrency);
        _total = Math.Max(1, limit.Total);
        _remaining = limit.Remaining;
        _resetAt = time.GetUtcNow() + TimeSpan.FromMilliseconds(Math.Max(0, limit.ResetAfter));
    }

    /// <summary>Waits until this shard may send IDENTIFY, and counts the identify against the session start limit.</summary>
    public async Task WaitTurnAsync(int shardId, CancellationToken cancellationToken)
    {
        DateTimeOffset slot;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            var earliest = now;
            if (now >= _resetAt)
            {
                _remaining = _total;
                _resetAt = now + AssumedPeriod;
            }

            if (_remaining <= 0)
            {
                earliest = _resetAt;
                _remaining = _total;
                _resetAt += AssumedPeriod;
                _logger.LogWarning(
                    "Shard {ShardId}: Discord's session start limit is used up; waiting {Delay} until it resets before identifying",
                    shardId, earliest - now);
            }

            _remaining--;
            var bucket = shardId % _maxConcurrency;
            if (_bucketFreeAt.TryGetValue(bucket, out var freeAt) && freeAt > earliest)
            {
                earliest = freeAt;
            }

            slot = earliest;
            _bucketFreeAt[bucket] = slot + BucketSpacing;
        }

        await GatewayTime.DelayUntilAsync(_time, slot, cancellationToken);

        // The slot spaced the starts of connecting. When the previous IDENTIFY of this bucket went out late (a slow
        // first connect), BucketSpacing after the slot can be less than 5 s after that IDENTIFY, and Discord answers op 9.
        DateTimeOffset afterPrevious;
        lock (_lock)
        {
            afterPrevious = _bucketLastSent.TryGetValue(shardId % _maxConcurrency, out var sent) ? sent + BucketSpacing : DateTimeOffset.MinValue;
        }

        await GatewayTime.DelayUntilAsync(_time, afterPrevious, cancellationToken);
    }

    /// <summary>Records that the shard's IDENTIFY was just sent; the next one of its bucket waits <see cref="BucketSpacing"/> (6 s) from now.</summary>
    public void IdentifySent(int shardId)
    {
        lock (_lock)
        {
            _bucketLastSent[shardId % _maxConcurrency] = _time.GetUtcNow();
        }
    }
}

internal static class GatewayTime
{
    /// <summary>
    /// Waits until an absolute time. Deadlines are fixed when a decision is taken, so a wait that starts late
    /// (or a test clock that moved meanwhile) still ends at the intended moment.
    /// </summary>
    public static Task DelayUntilAsync(TimeProvider time, DateTimeOffset due, CancellationToken cancellationToken)
    {
        var delay = due - time.GetUtcNow();
        return delay > TimeSpan.Zero ? Task.Delay(delay, time, cancellationToken) : Task.CompletedTask;
    }
}
