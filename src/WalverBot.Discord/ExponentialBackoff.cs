namespace WalverBot.Discord;

/// <summary>
/// Capped exponential backoff with proportional jitter: attempt <c>n</c> waits <c>baseDelay × 2ⁿ</c>, capped at
/// <c>maxDelay</c>, times a factor drawn between <c>minFactor</c> and <c>maxFactor</c>, and never more than
/// <c>maxDelay</c>. The jitter keeps many clients (shards, retried events) from retrying in lockstep.
/// </summary>
public sealed class ExponentialBackoff
{
    // 2^30 × any sensible base is far past any cap; the limit only keeps the arithmetic finite.
    private const int MaxExponent = 30;

    /// <summary>Creates a backoff; the jitter factor is drawn in [<paramref name="minFactor"/>, <paramref name="maxFactor"/>).</summary>
    public ExponentialBackoff(TimeSpan baseDelay, TimeSpan maxDelay, double minFactor, double maxFactor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(baseDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, baseDelay);
        ArgumentOutOfRangeException.ThrowIfNegative(minFactor);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFactor, minFactor);
        BaseDelay = baseDelay;
        MaxDelay = maxDelay;
        MinFactor = minFactor;
        MaxFactor = maxFactor;
    }

    /// <summary>The delay of attempt 0 before jitter.</summary>
    public TimeSpan BaseDelay { get; }

    /// <summary>No delay is longer than this.</summary>
    public TimeSpan MaxDelay { get; }

    /// <summary>The smallest jitter factor.</summary>
    public double MinFactor { get; }

    /// <summary>The largest jitter factor (exclusive).</summary>
    public double MaxFactor { get; }

    /// <summary>The delay before jitter: <see cref="BaseDelay"/> × 2^<paramref name="attempt"/>, at most <see cref="MaxDelay"/>.</summary>
    public TimeSpan Ceiling(int attempt)
    {
        var ceiling = BaseDelay * Math.Pow(2, Math.Clamp(attempt, 0, MaxExponent));
        return ceiling > MaxDelay ? MaxDelay : ceiling;
    }

    /// <summary>The delay of <paramref name="attempt"/> for <paramref name="random"/> in [0, 1) (e.g. <see cref="Random.NextDouble"/>).</summary>
    public TimeSpan Delay(int attempt, double random)
    {
        var delay = Ceiling(attempt) * (MinFactor + (random * (MaxFactor - MinFactor)));
        return delay > MaxDelay ? MaxDelay : delay;
    }
}
