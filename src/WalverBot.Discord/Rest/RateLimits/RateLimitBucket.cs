namespace WalverBot.Discord.Rest.RateLimits;

/// <summary>
/// The state of one Discord rate-limit bucket for one top-level resource. Its gate lets one request
/// at a time through, so concurrent callers see the previous answer's headers before sending.
/// Fields are guarded by <see cref="DiscordRateLimiter"/>'s lock.
/// </summary>
internal sealed class RateLimitBucket(string key)
{
    public string Key { get; } = key;

    /// <summary>Discord's X-RateLimit-Bucket hash, once learned.</summary>
    public string? Hash { get; set; }

    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Requests left until <see cref="ResetAt"/>; null while unknown.</summary>
    public int? Remaining { get; set; }

    public DateTimeOffset ResetAt { get; set; }

    public DateTimeOffset LastUsed { get; set; }
}

/// <summary>A turn in a bucket; disposing it lets the next request of that bucket go.</summary>
internal readonly struct RateLimitLease(RateLimitBucket bucket) : IDisposable
{
    public RateLimitBucket Bucket { get; } = bucket;

    public void Dispose() => Bucket.Gate.Release();
}
