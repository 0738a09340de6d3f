using Microsoft.Extensions.Time.Testing;
using WalverBot.Operations;

namespace WalverBot.Tests.Operations;

public sealed class ClockWaitsTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_clock_that_passes_the_due_time_while_the_timer_is_being_set_ends_the_wait()
    {
        // The first reading sees 10 minutes to go; the clock then jumps to the due time before the timer is set,
        // which is what a test advancing its clock at the wrong moment (or a descheduled thread) looks like.
        var clock = new JumpAfterFirstReading(new FakeTimeProvider(Start), jump: TimeSpan.FromMinutes(10));

        var wait = clock.DelayUntilAsync(Start.AddMinutes(10), CancellationToken.None);

        Assert.True(wait.IsCompletedSuccessfully, "a timer set after the clock passed the due time would wait 10 more minutes");
        await wait;
    }

    [Fact]
    public async Task The_wait_ends_when_the_clock_reaches_the_due_time_and_not_before()
    {
        var clock = new FakeTimeProvider(Start);

        var wait = clock.DelayUntilAsync(Start.AddMinutes(10), CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(9));
        Assert.False(wait.IsCompleted);
        clock.Advance(TimeSpan.FromMinutes(1));

        await wait.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_due_time_already_past_ends_at_once_and_cancellation_ends_a_pending_wait()
    {
        var clock = new FakeTimeProvider(Start);
        Assert.True(clock.DelayUntilAsync(Start.AddSeconds(-1), CancellationToken.None).IsCompletedSuccessfully);

        using var stop = new CancellationTokenSource();
        var wait = clock.DelayUntilAsync(Start.AddHours(1), stop.Token);
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
    }

    private sealed class JumpAfterFirstReading(FakeTimeProvider inner, TimeSpan jump) : TimeProvider
    {
        private bool _jumped;

        public override DateTimeOffset GetUtcNow()
        {
            var now = inner.GetUtcNow();
            if (!_jumped)
            {
                _jumped = true;
                inner.Advance(jump);
            }

            return now;
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            inner.CreateTimer(callback, state, dueTime, period);
    }
}
