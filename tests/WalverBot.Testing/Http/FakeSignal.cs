namespace WalverBot.Testing.Http;

/// <summary>
/// Lets tests await a condition on a fake's state without polling: every state change pulses,
/// and waiters re-check their condition on each pulse until it holds or the timeout passes.
/// </summary>
internal sealed class FakeSignal
{
    private TaskCompletionSource _pulse = NewPulse();

    public void Pulse() => Interlocked.Exchange(ref _pulse, NewPulse()).TrySetResult();

    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string description)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var pulse = Volatile.Read(ref _pulse).Task;
            if (condition())
            {
                return;
            }

            try
            {
                await pulse.WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                if (condition())
                {
                    return;
                }

                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {description}.");
            }
        }
    }

    private static TaskCompletionSource NewPulse() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
