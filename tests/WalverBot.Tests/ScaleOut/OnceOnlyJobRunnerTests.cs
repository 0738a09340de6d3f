using Microsoft.Extensions.Time.Testing;
using WalverBot.ScaleOut;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.ScaleOut;

public sealed class OnceOnlyJobRunnerTests
{
    [Fact]
    public async Task A_job_whose_work_fails_is_logged_and_run_again_instead_of_ending_its_service()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var logs = new CapturedLogs();
        await using var leader = new ProcessJobLeader();
        using var stop = new CancellationTokenSource();
        var runs = 0;
        var secondRun = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var runner = leader.RunOnceOnlyAsync(OnceOnlyJobs.CommandRegistration, async held =>
        {
            if (Interlocked.Increment(ref runs) == 1)
            {
                throw new InvalidOperationException("the database is not there"); // as a store read fails during an outage
            }

            secondRun.TrySetResult();
            await new TaskCompletionSource().Task.WaitAsync(held); // runs until the holding or the service ends, as a job does
        }, time, logs.CreateLogger("job"), stop.Token);

        await logs.WaitForLineAsync("failed; running it again");
        Assert.False(runner.IsCompleted, "the runner ended: its BackgroundService would have stopped the host");
        Assert.Contains(logs.Lines, l => l.Contains(OnceOnlyJobs.CommandRegistration, StringComparison.Ordinal) && l.Contains("the database is not there", StringComparison.Ordinal));

        // Run again after the retry interval, still holding the job.
        await Eventually.UntilAsync(
            () =>
            {
                time.Advance(OnceOnlyJobRunner.RetryInterval);
                return secondRun.Task.IsCompleted;
            },
            "the job's second run");
        Assert.Equal(2, runs);

        await stop.CancelAsync();
        await runner; // ends without an exception when the service stops
    }
}
