namespace WalverBot.Tests.Waiting;

public sealed class EventuallyTests
{
    [Fact]
    public async Task Returns_the_first_observed_value_that_satisfies_the_condition()
    {
        var calls = 0;

        var value = await Eventually.UntilAsync(() => ++calls, n => n >= 3, "three observations");

        Assert.Equal(3, value);
        Assert.Equal(3, calls); // no observation after the condition held
    }

    [Fact]
    public async Task A_timeout_names_what_was_awaited_and_the_last_observed_value()
    {
        var calls = 0;

        var error = await Assert.ThrowsAsync<TimeoutException>(() => Eventually.UntilAsync(
            () => ++calls, n => n < 0, "a negative count", TimeSpan.FromMilliseconds(30), n => $"count {n}"));

        Assert.Contains("waiting for a negative count", error.Message, StringComparison.Ordinal);
        Assert.Contains($"last observed: count {calls}", error.Message, StringComparison.Ordinal);
        Assert.True(calls > 1, "it polled more than once before giving up");
    }

    [Fact]
    public async Task A_condition_timeout_reports_what_the_observer_describes()
    {
        var error = await Assert.ThrowsAsync<TimeoutException>(() => Eventually.UntilAsync(
            () => false, "a log line with 'ready'", TimeSpan.FromMilliseconds(10), () => "log: starting"));

        Assert.Contains("a log line with 'ready'; last observed: log: starting", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_exception_while_observing_ends_the_wait_at_once()
    {
        var calls = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => Eventually.UntilAsync(
            Func<int> () => { calls++; throw new InvalidOperationException("the database is gone"); }, _ => true, "anything"));

        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task An_asynchronous_condition_is_awaited_between_checks()
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = Eventually.UntilAsync(() => Task.FromResult(source.Task.IsCompleted), "the source to complete");
        Assert.False(waiting.IsCompleted);

        source.SetResult();

        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
