using System.Security.Cryptography;
using System.Text;

namespace WalverBot.Testing.FakeDiscord;

/// <summary>Names of the fake's rate-limit buckets. Routes that share a name share a limit and an X-RateLimit-Bucket hash.</summary>
public static class FakeDiscordBuckets
{
    /// <summary>PUT and DELETE /guilds/{g}/members/{u}/roles/{r} (Discord shares one bucket for both).</summary>
    public const string MemberRoles = "member-roles";
    public const string MemberGet = "member-get";
    public const string MemberSearch = "member-search";
    public const string ChannelMessages = "channel-messages";
    public const string InteractionCallback = "interaction-callback";
    public const string Webhook = "webhook";
    public const string Commands = "commands";

    /// <summary>Every route not listed above.</summary>
    public const string Default = "default";
}

/// <summary>A per-route limit: at most Limit requests per Window for each top-level resource. Scope is reported on 429 (user or shared).</summary>
public sealed record FakeRouteLimit(int Limit, TimeSpan Window, string Scope = "user");

/// <summary>What one bucket saw, for assertions (Discord bans clients that pile up 401/403/429 answers).</summary>
public sealed record FakeBucketStats(string Bucket, string Hash, int Requests, int TooManyRequests, int Unauthorized, int Forbidden)
{
    /// <summary>Invalid requests as Discord counts them: 401, 403 and 429 (shared-scope 429s excluded by Discord; counted separately here).</summary>
    public int InvalidRequests => TooManyRequests + Unauthorized + Forbidden;
}

/// <summary>
/// Fixed-window buckets as Discord documents them: per route, keyed by the top-level resource
/// (guild, channel, webhook), reset a window after the first request, plus a global per-second
/// limit. See https://discord.com/developers/docs/topics/rate-limits.
/// </summary>
internal sealed class FakeDiscordRateLimiter(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, FakeRouteLimit> _limits = new()
    {
        [FakeDiscordBuckets.MemberRoles] = new(10, TimeSpan.FromSeconds(10)),
        [FakeDiscordBuckets.MemberGet] = new(10, TimeSpan.FromSeconds(1)),
        [FakeDiscordBuckets.MemberSearch] = new(10, TimeSpan.FromSeconds(10)),
        // The classic "5 messages per 5 seconds per channel".
        [FakeDiscordBuckets.ChannelMessages] = new(5, TimeSpan.FromSeconds(5)),
        [FakeDiscordBuckets.InteractionCallback] = new(20, TimeSpan.FromSeconds(1)),
        [FakeDiscordBuckets.Webhook] = new(5, TimeSpan.FromSeconds(2)),
        [FakeDiscordBuckets.Commands] = new(10, TimeSpan.FromSeconds(10)),
        [FakeDiscordBuckets.Default] = new(20, TimeSpan.FromSeconds(1)),
    };

    private readonly Dictionary<(string Bucket, string Major), Window> _windows = [];
    private readonly Dictionary<string, Stats> _stats = [];
    private Window _global = new(0, DateTimeOffset.MinValue);

    public int GlobalLimitPerSecond { get; set; } = 50;

    public void Configure(string bucket, FakeRouteLimit limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit.Limit);
        lock (_gate)
        {
            _limits[bucket] = limit;
            foreach (var key in _windows.Keys.Where(k => k.Bucket == bucket).ToList())
            {
                _windows.Remove(key);
            }
        }
    }

    public static string HashOf(string bucket)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes("walverbot-fake:" + bucket));
        return Convert.ToHexStringLower(bytes)[..32];
    }

    /// <summary>Counts a request against the global limit; false (with retry_after) when it is exceeded.</summary>
    public bool TryAcquireGlobal(out double retryAfter)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (now >= _global.ResetAt)
            {
                _global = new Window(GlobalLimitPerSecond, now.AddSeconds(1));
            }

            if (_global.Remaining <= 0)
            {
                retryAfter = (_global.ResetAt - now).TotalSeconds;
                return false;
            }

            _global.Remaining--;
            retryAfter = 0;
            return true;
        }
    }

    public FakeBucketDecision Acquire(string bucket, string major)
    {
        lock (_gate)
        {
            var limit = _limits[bucket];
            var now = time.GetUtcNow();
            if (!_windows.TryGetValue((bucket, major), out var window) || now >= window.ResetAt)
            {
                window = new Window(limit.Limit, now + limit.Window);
                _windows[(bucket, major)] = window;
            }

            var stats = StatsFor(bucket);
            stats.Requests++;
            var allowed = window.Remaining > 0;
            if (allowed)
            {
                window.Remaining--;
            }
            else
            {
                stats.TooManyRequests++;
            }

            return new FakeBucketDecision(allowed, limit.Limit, window.Remaining, window.ResetAt, (window.ResetAt - now).TotalSeconds, HashOf(bucket), limit.Scope);
        }
    }

    public void CountAnswer(string bucket, int status, bool countRequest)
    {
        lock (_gate)
        {
            var stats = StatsFor(bucket);
            if (countRequest)
            {
                stats.Requests++;
            }

            switch (status)
            {
                case 401: stats.Unauthorized++; break;
                case 403: stats.Forbidden++; break;
                case 429: stats.TooManyRequests++; break;
            }
        }
    }

    public IReadOnlyList<FakeBucketStats> Snapshot()
    {
        lock (_gate)
        {
            return [.. _stats.Select(s => new FakeBucketStats(s.Key, HashOf(s.Key), s.Value.Requests, s.Value.TooManyRequests, s.Value.Unauthorized, s.Value.Forbidden))];
        }
    }

    public void Reset()
    {
        lock (_gate)
        {
            _windows.Clear();
            _stats.Clear();
            _global = new Window(0, DateTimeOffset.MinValue);
        }
    }

    private Stats StatsFor(string bucket)
    {
        if (!_stats.TryGetValue(bucket, out var stats))
        {
            stats = new Stats();
            _stats[bucket] = stats;
        }

        return stats;
    }

    private sealed class Window(int remaining, DateTimeOffset resetAt)
    {
        public int Remaining { get; set; } = remaining;

        public DateTimeOffset ResetAt { get; } = resetAt;
    }

    private sealed class Stats
    {
        public int Requests { get; set; }

        public int TooManyRequests { get; set; }

        public int Unauthorized { get; set; }

        public int Forbidden { get; set; }
    }
}

internal readonly record struct FakeBucketDecision(
    bool Allowed, int Limit, int Remaining, DateTimeOffset ResetAt, double ResetAfter, string Hash, string Scope);
