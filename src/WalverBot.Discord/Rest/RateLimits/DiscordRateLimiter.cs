using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;

namespace WalverBot.Discord.Rest.RateLimits;

/// <summary>
/// Discord's rate limits as documented (https://discord.com/developers/docs/topics/rate-limits):
/// per-route buckets keyed by route plus top-level resource, merged once Discord names the shared
/// bucket in <c>X-RateLimit-Bucket</c>; waiting before sending when a bucket is empty; one request
/// in flight per bucket; and the global 50 requests per second. One instance per process.
/// </summary>
internal sealed partial class DiscordRateLimiter(TimeProvider timeProvider, DiscordRestSettings settings, ILogger<DiscordRateLimiter> logger)
{
    private static readonly TimeSpan GlobalWindow = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan IdleBucketLifetime = TimeSpan.FromMinutes(10);

    private readonly Lock _lock = new();
    // "GET /guilds/{guild_id}/members/{user_id}" → Discord's bucket hash. Templates are few: never pruned.
    private readonly Dictionary<string, string> _hashByRoute = [];
    // "hash|major" (or "route|major" until the hash is known) → bucket. Majors are many: idle ones are pruned.
    private readonly Dictionary<string, RateLimitBucket> _buckets = [];
    private readonly Queue<DateTimeOffset> _recentGlobalSends = new();
    private DateTimeOffset _globalPausedUntil;
    private DateTimeOffset _lastPrune;

    /// <summary>
    /// Waits for this route's turn: its bucket's gate, the bucket's reset when it has no requests left,
    /// then a slot under the global limit. Dispose the lease once the answer's headers are applied.
    /// </summary>
    public async ValueTask<RateLimitLease> AcquireAsync(DiscordRoute route, CancellationToken cancellationToken)
    {
        RateLimitBucket bucket;
        while (true)
        {
            bucket = GetBucket(route);
            await bucket.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (ReferenceEquals(bucket, GetBucket(route)))
            {
                break;
            }

            // While we queued, the route learned its shared bucket (or this one was pruned): queue there instead.
            bucket.Gate.Release();
        }

        try
        {
            await WaitForBucketAsync(route, bucket, cancellationToken).ConfigureAwait(false);
            if (!route.IsInteraction)
            {
                await WaitForGlobalAsync(route, cancellationToken).ConfigureAwait(false);
            }

            return new RateLimitLease(bucket);
        }
        catch
        {
            bucket.Gate.Release();
            throw;
        }
    }

    /// <summary>Learns the bucket hash and the remaining count from an answer's headers; returns the bucket they describe.</summary>
    public RateLimitBucket Update(DiscordRoute route, RateLimitLease lease, HttpResponseHeaders headers)
    {
        var hash = Header(headers, "X-RateLimit-Bucket");
        var remaining = Header(headers, "X-RateLimit-Remaining");
        var resetAfter = Header(headers, "X-RateLimit-Reset-After");
        lock (_lock)
        {
            var bucket = lease.Bucket;
            if (hash is not null)
            {
                // Routes that answer with the same hash share one limit per top-level resource.
                _hashByRoute[route.Name] = hash;
                bucket = GetOrCreateBucket($"{hash}|{route.MajorParameter}", timeProvider.GetUtcNow());
                bucket.Hash = hash;
            }

            if (int.TryParse(remaining, NumberStyles.Integer, CultureInfo.InvariantCulture, out var left)
                && double.TryParse(resetAfter, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                && DiscordRestException.ServerDelayFromSeconds(seconds) is { } wait)
            {
                bucket.Remaining = left;
                // Reset-After is relative, so our clock need not agree with Discord's (unlike X-RateLimit-Reset).
                bucket.ResetAt = timeProvider.GetUtcNow() + wait;
            }

            return bucket;
        }
    }

    /// <summary>A per-route or shared 429: nothing goes to this bucket until the wait is over.</summary>
    public void PauseBucket(RateLimitBucket bucket, TimeSpan retryAfter)
    {
        lock (_lock)
        {
            var until = timeProvider.GetUtcNow() + DiscordRestException.ClampServerDelay(retryAfter);
            bucket.Remaining = 0;
            bucket.ResetAt = until > bucket.ResetAt ? until : bucket.ResetAt;
        }
    }

    /// <summary>A global 429: no request except interaction responses is sent until the wait is over.</summary>
    public void PauseGlobal(TimeSpan retryAfter)
    {
        lock (_lock)
        {
            var until = timeProvider.GetUtcNow() + DiscordRestException.ClampServerDelay(retryAfter);
            if (until > _globalPausedUntil)
            {
                _globalPausedUntil = until;
            }
        }
    }

    /// <summary>The bucket the route currently maps to (test hook and <see cref="Update"/> helper).</summary>
    internal RateLimitBucket GetBucket(DiscordRoute route)
    {
        lock (_lock)
        {
            var now = timeProvider.GetUtcNow();
            PruneIdleBuckets(now);
            var key = _hashByRoute.TryGetValue(route.Name, out var hash)
                ? $"{hash}|{route.MajorParameter}"
                : $"{route.Name}|{route.MajorParameter}";
            var bucket = GetOrCreateBucket(key, now);
            bucket.LastUsed = now;
            return bucket;
        }
    }

    private RateLimitBucket GetOrCreateBucket(string key, DateTimeOffset now)
    {
        if (!_buckets.TryGetValue(key, out var bucket))
        {
            bucket = new RateLimitBucket(key) { LastUsed = now };
            _buckets[key] = bucket;
        }

        return bucket;
    }

    private async Task WaitForBucketAsync(DiscordRoute route, RateLimitBucket bucket, CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_lock)
            {
                var now = timeProvider.GetUtcNow();
                if (now >= bucket.ResetAt)
                {
                    // The window has reset: the next answer tells us the new count.
                    bucket.Remaining = null;
                }

                if (bucket.Remaining is not 0)
                {
                    bucket.Remaining--;
                    return;
                }

                wait = bucket.ResetAt - now;
            }

            LogBucketWait(route.Name, bucket.Hash, wait.TotalMilliseconds);
            await Task.Delay(wait, timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WaitForGlobalAsync(DiscordRoute route, CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_lock)
            {
                var now = timeProvider.GetUtcNow();
                if (now < _globalPausedUntil)
                {
                    wait = _globalPausedUntil - now;
                }
                else
                {
                    // Sliding window: at most N sends in any one second.
                    while (_recentGlobalSends.Count > 0 && now - _recentGlobalSends.Peek() >= GlobalWindow)
                    {
                        _recentGlobalSends.Dequeue();
                    }

                    if (_recentGlobalSends.Count < settings.GlobalRequestsPerSecond)
                    {
                        _recentGlobalSends.Enqueue(now);
                        return;
                    }

                    wait = _recentGlobalSends.Peek() + GlobalWindow - now;
                }
            }

            LogGlobalWait(route.Name, wait.TotalMilliseconds);
            await Task.Delay(wait, timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    // Interaction tokens and guild ids create a bucket each; drop the ones idle past their reset.
    private void PruneIdleBuckets(DateTimeOffset now)
    {
        if (now - _lastPrune < IdleBucketLifetime)
        {
            return;
        }

        _lastPrune = now;
        foreach (var (key, bucket) in _buckets.ToList())
        {
            if (now - bucket.LastUsed > IdleBucketLifetime && now > bucket.ResetAt && bucket.Gate.CurrentCount == 1)
            {
                _buckets.Remove(key);
            }
        }
    }

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Waiting {WaitMs} ms for Discord rate-limit bucket {Bucket} before {Route}")]
    private partial void LogBucketWait(string route, string? bucket, double waitMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Waiting {WaitMs} ms for Discord's global rate limit before {Route}")]
    private partial void LogGlobalWait(string route, double waitMs);
}
