using Microsoft.Extensions.Time.Testing;
using WalverBot.Grants;

namespace WalverBot.Tests.Grants;

public class GrantSignalTests
{
    [Fact]
    public async Task Notify_BeforeWait_WakesTheNextWaitAtOnce()
    {
        var signal = new GrantSignal();
        signal.Notify();

        Assert.True(await signal.WaitAsync(TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task ManyNotifies_CoalesceIntoOneWakeUp()
    {
        var signal = new GrantSignal();
        signal.Notify();
        signal.Notify();
        signal.Notify();

        Assert.True(await signal.WaitAsync(TimeSpan.Zero, CancellationToken.None));
        // The worker drains everything due per wake-up, so the extra notifications were dropped, not queued.
        Assert.False(await signal.WaitAsync(TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task Notify_WhileWaiting_WakesTheWaiter()
    {
        var signal = new GrantSignal();
        var waiting = signal.WaitAsync(Timeout.InfiniteTimeSpan, CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        signal.Notify();

        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(await signal.WaitAsync(TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task Wait_WithoutNotify_ReturnsFalseWhenTheTimeoutPasses()
    {
        var signal = new GrantSignal();

        Assert.False(await signal.WaitAsync(TimeSpan.FromMilliseconds(20), CancellationToken.None));
    }

    [Fact]
    public async Task Wait_WithoutNotify_EndsWhenTheInjectedClockPassesTheTimeout()
    {
        var time = new FakeTimeProvider();
        var signal = new GrantSignal(time);
        var waiting = signal.WaitAsync(TimeSpan.FromMinutes(10), CancellationToken.None);

        time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1));
        Assert.False(waiting.IsCompleted); // real time plays no part: only the clock ends the wait
        time.Advance(TimeSpan.FromTicks(1));

        Assert.False(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Wait_Cancelled_ThrowsInsteadOfReportingATimeout()
    {
        var signal = new GrantSignal();
        using var stopping = new CancellationTokenSource();
        var waiting = signal.WaitAsync(Timeout.InfiniteTimeSpan, stopping.Token);

        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }
}
