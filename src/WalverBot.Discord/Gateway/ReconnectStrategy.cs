namespace WalverBot.Discord.Gateway;

/// <summary>How long a shard waits before reconnecting.</summary>
public interface IReconnectStrategy
{
    /// <summary>
    /// The delay before the next connection attempt. <paramref name="failedAttempts"/> counts the
    /// connections in a row that ended before reaching READY or RESUMED (0 after a healthy session dropped).
    /// </summary>
    TimeSpan GetDelay(int failedAttempts);
}

/// <summary>
/// Capped exponential backoff with jitter: a healthy session that drops reconnects within
/// <c>baseDelay</c>; each failed attempt after that doubles the ceiling up to <c>maxDelay</c>, and the
/// actual delay is drawn between half the ceiling and the ceiling so shards do not reconnect in lockstep.
/// </summary>
public sealed class ExponentialBackoffReconnectStrategy : IReconnectStrategy
{
    private readonly ExponentialBackoff _backoff;
    private readonly Func<double> _random;

    /// <summary>One second base, one minute cap, <see cref="Random.Shared"/> jitter.</summary>
    public ExponentialBackoffReconnectStrategy()
        : this(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), Random.Shared.NextDouble)
    {
    }

    /// <summary>Creates the strategy with explicit bounds and a random source returning values in [0, 1).</summary>
    public ExponentialBackoffReconnectStrategy(TimeSpan baseDelay, TimeSpan maxDelay, Func<double> random)
    {
        // Drawn between half the ceiling and the ceiling.
        _backoff = new ExponentialBackoff(baseDelay, maxDelay, 0.5, 1.0);
        _random = random;
    }

    /// <inheritdoc />
    public TimeSpan GetDelay(int failedAttempts)
    {
        if (failedAttempts <= 0)
        {
            // Discord asks for an immediate reconnect after op 7; a small random delay still spreads shards out.
            return _backoff.BaseDelay * _random();
        }

        return _backoff.Delay(failedAttempts, _random());
    }
}
