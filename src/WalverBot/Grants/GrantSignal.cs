using System.Threading.Channels;

namespace WalverBot.Grants;

/// <summary>Wakes the grant worker when new work is stored, so roles follow webhooks within milliseconds.</summary>
/// <param name="time">Times the wait for the next retry, so a test's clock (not real seconds) decides when it ends.</param>
public sealed class GrantSignal(TimeProvider time)
{
    // At most one pending wake-up (capacity one, further writes dropped): the worker drains everything due
    // each time it wakes, so coalescing notifications loses nothing.
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    public GrantSignal()
        : this(TimeProvider.System)
    {
    }

    public void Notify() => _signal.Writer.TryWrite(true);

    /// <summary>True when woken by <see cref="Notify"/> (consuming the wake-up), false when <paramref name="timeout"/> passed first.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_signal.Reader.TryRead(out _))
        {
            return true;
        }

        if (timeout == TimeSpan.Zero)
        {
            return false;
        }

        using var timer = new CancellationTokenSource(timeout, time);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            return await _signal.Reader.WaitToReadAsync(timeoutSource.Token) && _signal.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
