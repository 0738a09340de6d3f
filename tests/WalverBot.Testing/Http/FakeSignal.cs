namespace WalverBot.Testing.Http;

/// <summary>
/// Lets tests await a condition on a fake's state without polling: every state change pulses,
/// and waiters re-check their condition on each pulse until it holds or the timeout passes.
/// </summary>
internal sealed class FakeSignal
{
    private TaskCompletionSource _pulse = NewPulse();

    public void Pulse() => Interlocked.Exchange(ref _pulse, NewPulse()).TrySetResult();

    /// <param name="detail">What the fake saw, appended to the timeout message so a failure shows what did happen.</param>
    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string description, Func<string>? detail = null)
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

                var message = $"Timed out after {timeout.TotalSeconds:0.#} s waiting for {description}.";
                throw new TimeoutException(detail is null ? message : message + " " + detail());
            }
        }
    }

    private static TaskCompletionSource NewPulse() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
