using System.Diagnostics;
using System.Globalization;

namespace WalverBot.Testing.Waiting;

/// <summary>
/// The processor time the calling thread spent in a piece of synchronous work, for tests that bound how much work a
/// check does (no quadratic blow-up on hostile input). Wall time would also count the time the thread waited for a
/// core, which on a loaded two-core machine is most of it; processor time does not. Linux reads it from
/// /proc/thread-self/stat (proc(5): utime and stime, fields 14 and 15, in clock ticks of USER_HZ = 100 per second,
/// so 10 ms resolution); elsewhere it falls back to wall time.
/// </summary>
public static class ThreadCpuTime
{
    private const string StatPath = "/proc/thread-self/stat";
    private const double TicksPerSecond = 100; // USER_HZ, fixed by the Linux ABI (proc(5), sysconf(_SC_CLK_TCK))

    /// <summary>Runs <paramref name="work"/> on the calling thread and returns the processor time it took.</summary>
    public static TimeSpan Measure(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!File.Exists(StatPath))
        {
            var wall = Stopwatch.StartNew();
            work();
            return wall.Elapsed;
        }

        var before = Read();
        work();
        return Read() - before;
    }

    private static TimeSpan Read()
    {
        var stat = File.ReadAllText(StatPath);
        // "tid (comm) state ...": comm may hold spaces and parentheses, so the fields are counted after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture); // utime, stime
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }
}
