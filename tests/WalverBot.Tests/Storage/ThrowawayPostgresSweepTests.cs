using System.Diagnostics;
using System.Globalization;
using WalverBot.Testing.Postgres;

namespace WalverBot.Tests.Storage;

/// <summary>
/// A throwaway cluster's folder is made under a first name and renamed once it names its owner; a run killed between
/// the two leaves the first name behind, and a later run's start sweeps it unless its maker may still be at work.
/// </summary>
public sealed class ThrowawayPostgresSweepTests : IDisposable
{
    private readonly string _parent = Directory.CreateTempSubdirectory("walverbot-sweep-").FullName;

    public void Dispose() => Directory.Delete(_parent, recursive: true);

    [Fact]
    public async Task Unnamed_folders_go_once_their_maker_is_gone_and_stay_while_it_may_still_be_at_work()
    {
        var deadOwner = Unnamed("dead", await ExitedProcessIdAsync());
        var liveOwner = Unnamed("live", Environment.ProcessId);
        var freshWithoutOwner = Unnamed("fresh", owner: null);
        // Its maker has created the owner file and not yet written it (another suite's sweep once removed such a folder).
        var freshBeingWritten = Unnamed("being-written", owner: null);
        File.WriteAllText(Path.Combine(freshBeingWritten, "owner.pid"), "");
        var oldWithoutOwner = Unnamed("old", owner: null);
        Directory.SetLastWriteTimeUtc(oldWithoutOwner, DateTime.UtcNow.AddMinutes(-10));
        var named = Directory.CreateDirectory(Path.Combine(_parent, "walverbot-pg-named")).FullName;

        ThrowawayPostgres.RemoveUnnamedLeftovers(_parent);

        Assert.False(Directory.Exists(deadOwner));
        Assert.False(Directory.Exists(oldWithoutOwner));
        Assert.True(Directory.Exists(liveOwner));
        Assert.True(Directory.Exists(freshWithoutOwner));
        Assert.True(Directory.Exists(freshBeingWritten));
        Assert.True(Directory.Exists(named)); // a renamed folder may hold a server: the cluster sweep's, not this one's
    }

    private string Unnamed(string name, int? owner)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_parent, $"walverbot-pgnew-{name}")).FullName;
        if (owner is { } pid)
        {
            File.WriteAllText(Path.Combine(folder, "owner.pid"), pid.ToString(CultureInfo.InvariantCulture));
        }

        return folder;
    }

    private static async Task<int> ExitedProcessIdAsync()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await process.WaitForExitAsync();
        return process.Id;
    }
}
