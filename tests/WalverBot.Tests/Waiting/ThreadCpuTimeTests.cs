using System.Security.Cryptography;

namespace WalverBot.Tests.Waiting;

public sealed class ThreadCpuTimeTests
{
    [SkippableFact]
    public void Time_the_thread_spends_blocked_is_not_counted()
    {
        Skip.IfNot(File.Exists("/proc/thread-self/stat"), "processor time per thread is read from Linux's /proc");
        using var done = new ManualResetEventSlim();
        var workerTook = TimeSpan.Zero;

        // Blocked, off the processor, until another thread has done a fixed amount of work.
        var took = ThreadCpuTime.Measure(() =>
        {
            var worker = new Thread(() =>
            {
                workerTook = ThreadCpuTime.Measure(HashWork);
                done.Set();
            });
            worker.Start();
            done.Wait();
        });

        Assert.True(workerTook >= TimeSpan.FromMilliseconds(10), $"the other thread counted only {workerTook}");
        Assert.True(took < TimeSpan.FromMilliseconds(200), $"counted {took} for a blocked wait while another thread worked {workerTook}");
    }

    [SkippableFact]
    public void Work_on_the_thread_is_counted()
    {
        Skip.IfNot(File.Exists("/proc/thread-self/stat"), "processor time per thread is read from Linux's /proc");
        // A fixed amount of work: tens of milliseconds of processor time at any load, several 10 ms clock ticks.
        var took = ThreadCpuTime.Measure(HashWork);

        Assert.True(took >= TimeSpan.FromMilliseconds(10), $"counted {took} for 256 MiB of SHA-256");
    }

    private static void HashWork()
    {
        var data = new byte[16 * 1024 * 1024];
        for (var i = 0; i < 16; i++)
        {
            data[0] = SHA256.HashData(data)[0];
        }
    }
}
