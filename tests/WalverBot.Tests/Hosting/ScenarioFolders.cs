using System.Collections.Concurrent;

namespace WalverBot.Tests.Hosting;

/// <summary>
/// The folders that scenarios keep their database in, reused once emptied: a scenario gets a folder no other live
/// scenario has, and a fresh database in it, but its path is one an earlier scenario had. Dapper caches the code it
/// emits for a query's parameters per connection string, so a path never seen before made every scenario compile its
/// ~25 queries' parameter code again (a sixth of a scenario's CPU; docs/benchmarks.md, "Test suite, third look").
/// </summary>
internal static class ScenarioFolders
{
    private static readonly ConcurrentBag<string> Free = [];

    /// <summary>An empty folder of its own for the caller until <see cref="Return"/>.</summary>
    public static string Rent()
    {
        var folder = Free.TryTake(out var reused)
            ? reused
            : Path.Combine(Path.GetTempPath(), "walverbot-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>
    /// Deletes the folder and offers its path to the next scenario. Call it only when nothing holds a connection to the
    /// database any more (the bot stopped and SQLite's pools cleared), or a pooled connection would carry the old file over.
    /// </summary>
    public static void Return(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            return; // something still has a file open: the path is not offered again
        }

        Free.Add(folder);
    }
}
