namespace WalverBot.Grants;

/// <summary>Wakes the grant worker when new work is stored, so roles follow webhooks within milliseconds.</summary>
public sealed class GrantSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        // At most one pending wake-up: the worker drains everything due each time it wakes.
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await _signal.WaitAsync(timeout, cancellationToken);
}
