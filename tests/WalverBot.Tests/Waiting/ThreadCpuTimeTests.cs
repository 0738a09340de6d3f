using System.Security.Cryptography;

namespace WalverBot.Tests.Waiting;

public sealed class ThreadCpuTimeTests
{
    [SkippableFact]
    public void Time_the_thread_spends_blocked_is_not_counted()
    {
        Skip.IfNot(File.Exists("/proc/thread-self/stat"), "processor time per thread is read from Linux's /proc");
        using var never = new ManualResetEventSlim();

        // Blocked, off the processor, until the wait times out (about half a second, longer on a loaded machine).
        var took = ThreadCpuTime.Measure(() => Assert.False(never.Wait(TimeSpan.FromMilliseconds(500))));

        Assert.True(took < TimeSpan.FromMilliseconds(200), $"counted {took} for a blocked wait");
    }

    [SkippableFact]
    public void Work_on_the_thread_is_counted()
    {
        Skip.IfNot(File.Exists("/proc/thread-self/stat"), "processor time per thread is read from Linux's /proc");
        var data = new byte[16 * 1024 * 1024];

        // A fixed amount of work: tens of milliseconds of processor time at any load, several 10 ms clock ticks.
        var took = ThreadCpuTime.Measure(() =>
        {
            for (var i = 0; i < 16; i++)
            {
                data[0] = SHA256.HashData(data)[0];
            }
        });

        Assert.True(took >= TimeSpan.FromMilliseconds(10), $"counted {took} for 256 MiB of SHA-256");
    }
}
