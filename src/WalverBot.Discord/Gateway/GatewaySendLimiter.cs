namespace WalverBot.Discord.Gateway;

/// <summary>
/// Discord allows 120 gateway events per connection every 60 seconds and disconnects (4008) clients that
/// send more (https://discord.com/developers/docs/topics/gateway#rate-limiting). Ordinary sends stop at
/// <see cref="OrdinaryLimit"/> so heartbeats always find room in the same window.
/// </summary>
internal sealed class GatewaySendLimiter(TimeProvider time)
{
    public const int Limit = 120;
    public const int OrdinaryLimit = 110;
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    private readonly Queue<DateTimeOffset> _sent = new();
    private readonly Lock _lock = new();

    /// <summary>Records a send and returns <see cref="TimeSpan.Zero"/>, or returns how long to wait before trying again.</summary>
    public TimeSpan TryAcquire(bool heartbeat)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            while (_sent.Count > 0 && now - _sent.Peek() >= Window)
            {
                _sent.Dequeue();
            }

            var limit = heartbeat ? Limit : OrdinaryLimit;
            if (_sent.Count < limit)
            {
                _sent.Enqueue(now);
                return TimeSpan.Zero;
            }

            // The window frees a slot when the send that is (Count - limit) places from the oldest expires.
            var blocking = _sent.ElementAt(_sent.Count - limit);
            return blocking + Window - now;
        }
    }

    public async Task WaitAsync(bool heartbeat, CancellationToken cancellationToken)
    {
        for (var wait = TryAcquire(heartbeat); wait > TimeSpan.Zero; wait = TryAcquire(heartbeat))
        {
            await Task.Delay(wait, time, cancellationToken);
        }
    }
}
