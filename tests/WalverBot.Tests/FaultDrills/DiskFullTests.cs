using System.Diagnostics;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.FaultDrills;

/// <summary>
/// The database volume fills up: webhooks are answered 503 (never 200 for an event that was not stored), and the bot
/// recovers when space returns. The volume is a small tmpfs mounted for the test, which needs root (or CAP_SYS_ADMIN);
/// elsewhere the test reports itself skipped with the reason.
/// </summary>
public sealed class DiskFullTests
{
    [SkippableFact]
    public async Task Webhooks_are_answered_503_while_the_disk_is_full_and_accepted_again_when_space_returns()
    {
        await using var volume = await TmpfsVolume.MountAsync("2m");
        Skip.If(volume.SkipReason is not null, volume.SkipReason);

        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?>
        {
            [DrillMembers.SignaturesOff.Key] = DrillMembers.SignaturesOff.Value,
            ["ConnectionStrings:WalverBot"] = $"Data Source={Path.Combine(volume.Path, "walverbot.db")}",
        });
        const int Count = 30;
        DrillMembers.Seed(bot.Discord, Count);
        Assert.Equal(200, (await bot.SendAsync(DrillMembers.Webhook(0))).Status);

        var filler = Path.Combine(volume.Path, "filler");
        FillUp(filler);

        // The WAL may still hold free pages for a few inserts: those are stored and rightly answered 200.
        var answers = new Dictionary<int, int>();
        for (var i = 1; i < Count && !answers.ContainsValue(503); i++)
        {
            answers[i] = (await bot.SendAsync(DrillMembers.Webhook(i).WithField("note", new string('x', 16_000)))).Status;
        }

        Assert.Contains(503, answers.Values);
        Assert.All(answers.Values, status => Assert.Contains(status, new[] { 200, 503 }));
        // SQLite reports a full disk as SQLITE_FULL (13) on most writes, and as an I/O error (10) on some; which write
        // meets it first varies from run to run (one whole-suite run saw 10). Either way the line names SQLite's error.
        Assert.Contains(bot.Logs.Lines, l => l.Contains("Could not store a webhook", StringComparison.Ordinal)
            && (l.Contains("SQLite error 13", StringComparison.Ordinal) || l.Contains("SQLite error 10", StringComparison.Ordinal)));

        File.Delete(filler);
        var refused = answers.Where(a => a.Value == 503).Select(a => a.Key).ToList();
        foreach (var i in refused)
        {
            Assert.Equal(200, (await bot.SendAsync(DrillMembers.Webhook(i))).Status); // Walver's retry
        }

        var expected = answers.Keys.Append(0).Select(DrillMembers.UserId).ToHashSet();
        await bot.Discord.WaitUntilAsync(d => expected.IsSubsetOf(DrillMembers.AssignmentsPerMember(d).Keys), TimeSpan.FromSeconds(30), "a grant for every webhook");
        Assert.All(DrillMembers.AssignmentsPerMember(bot.Discord).Values, count => Assert.Equal(1, count));
    }

    private static void FillUp(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        var block = new byte[64 * 1024];
        try
        {
            while (true)
            {
                stream.Write(block);
                stream.Flush(flushToDisk: true);
            }
        }
        catch (IOException)
        {
            // ENOSPC: the volume is full.
        }
    }

    /// <summary>A tmpfs of the given size on a fresh temp folder; unmounted and removed on dispose.</summary>
    private sealed class TmpfsVolume : IAsyncDisposable
    {
        private bool _mounted;

        private TmpfsVolume(string path) => Path = path;

        public string Path { get; }

        public string? SkipReason { get; private set; }

        public static async Task<TmpfsVolume> MountAsync(string size)
        {
            var volume = new TmpfsVolume(Directory.CreateTempSubdirectory("walverbot-diskfull").FullName);
            if (!OperatingSystem.IsLinux())
            {
                volume.SkipReason = "disk-full drill needs Linux (mount -t tmpfs)";
                return volume;
            }

            var (code, error) = await RunAsync("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", volume.Path);
            if (code != 0)
            {
                volume.SkipReason = $"disk-full drill skipped: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {error.Trim()}";
                return volume;
            }

            volume._mounted = true;
            return volume;
        }

        public async ValueTask DisposeAsync()
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (_mounted)
            {
                await RunAsync("umount", "-l", Path);
            }

            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        private static async Task<(int Code, string Error)> RunAsync(string file, params string[] args)
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
                var error = await process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                return (process.ExitCode, error);
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                return (-1, ex.Message);
            }
        }
    }
}
