namespace WalverBot.Operations;

public static class ClockWaits
{
    /// <summary>
    /// Waits until an absolute time on <paramref name="time"/>. A timer counts from the moment it is set, so a clock
    /// that passed <paramref name="due"/> between reading it and setting the timer (a test clock jumping, a thread
    /// descheduled) would make a plain <see cref="Task.Delay(TimeSpan, TimeProvider, CancellationToken)"/> end a whole
    /// wait late; reading the clock again once the timer is set closes that gap.
    /// </summary>
    public static async Task DelayUntilAsync(this TimeProvider time, DateTimeOffset due, CancellationToken cancellationToken)
    {
        var wait = due - time.GetUtcNow();
        if (wait <= TimeSpan.Zero)
        {
            return;
        }

        using var timerStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timer = Task.Delay(wait, time, timerStop.Token);
        if (time.GetUtcNow() >= due)
        {
            timerStop.Cancel();
            return;
        }

        await timer;
    }
}
