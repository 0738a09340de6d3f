namespace WalverBot.Testing.Waiting;

/// <summary>
/// The one way tests wait for a fact that nothing signals: check it, and while it does not hold, check again after a
/// short pause (a few milliseconds, growing to <see cref="MaxPause"/>) until it holds or the timeout passes. The timeout
/// is only reached when the test fails, so it is generous; the failure says what was awaited and what was last seen.
/// Prefer a signal when the code under test offers one (a fake's <c>WaitUntilAsync</c>, a task to await).
/// </summary>
public static class Eventually
{
    /// <summary>Long enough for a loaded two-core machine; a passing test never waits this long.</summary>
    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(15);

    public static TimeSpan FirstPause { get; } = TimeSpan.FromMilliseconds(2);

    public static TimeSpan MaxPause { get; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Waits until <paramref name="condition"/> holds; <paramref name="observed"/> adds what was last seen to a failure.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null, Func<string>? observed = null) =>
        await UntilAsync(() => Task.FromResult(condition()), what, timeout, observed).ConfigureAwait(false);

    /// <summary>Waits until <paramref name="condition"/> holds; <paramref name="observed"/> adds what was last seen to a failure.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, Func<string>? observed = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        await UntilAsync(condition, held => held, what, timeout, observed is null ? null : _ => observed()).ConfigureAwait(false);
    }

    /// <summary>Observes a value until it satisfies <paramref name="done"/> and returns it.</summary>
    public static Task<T> UntilAsync<T>(Func<T> observe, Func<T, bool> done, string what, TimeSpan? timeout = null, Func<T, string>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(observe);
        return UntilAsync(() => Task.FromResult(observe()), done, what, timeout, describe);
    }

    /// <summary>
    /// Observes a value until it satisfies <paramref name="done"/> and returns it. On timeout throws a
    /// <see cref="TimeoutException"/> naming <paramref name="what"/> and the last value (through <paramref name="describe"/>,
    /// else its <c>ToString</c>). An exception from <paramref name="observe"/> ends the wait at once: it is a failure, not a "not yet".
    /// </summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> observe, Func<T, bool> done, string what, TimeSpan? timeout = null, Func<T, string>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(observe);
        ArgumentNullException.ThrowIfNull(done);
        var limit = timeout ?? DefaultTimeout;
        var started = TimeProvider.System.GetTimestamp();
        var pause = FirstPause;
        while (true)
        {
            var value = await observe().ConfigureAwait(false);
            if (done(value))
            {
                return value;
            }

            if (TimeProvider.System.GetElapsedTime(started) >= limit)
            {
                var seen = describe is null ? value?.ToString() ?? "null" : describe(value);
                throw new TimeoutException($"Timed out after {limit.TotalSeconds:0.#} s waiting for {what}; last observed: {seen}");
            }

            await Task.Delay(pause).ConfigureAwait(false);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, MaxPause.Ticks));
        }
    }
}
