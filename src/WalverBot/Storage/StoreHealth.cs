namespace WalverBot.Storage;

/// <summary>
/// Whether the database file the bot opened is still the file at its path. SQLite keeps writing through open
/// handles after the file is deleted or replaced (POSIX unlink semantics), so every commit would "succeed" into a
/// file nobody will ever open again; this notices it, so the webhook path refuses (503) instead of acknowledging.
/// </summary>
public sealed class StoreHealth : IDisposable
{
    private readonly string _path;
    private readonly Lock _gate = new();
    private FileStream? _identity;
    private string? _problem;

    internal StoreHealth(string path) => _path = path;

    /// <summary>True while the opened database file is still the one at its path (or before the store is opened).</summary>
    public bool IsHealthy => Check() is null;

    /// <summary>Why the store cannot be trusted right now, or null when it can. Cheap (a stat and a readlink).</summary>
    public string? Check()
    {
        lock (_gate)
        {
            if (_identity is null)
            {
                return _problem;
            }

            // Once lost, lost until a restart: pooled connections still write to the old file, and its -wal file is
            // still at the path, so even a backup copied back into place is not safe to open under the running bot.
            _problem ??= Problem();
            return _problem;
        }
    }

    /// <summary>True once the opened file is remembered (after migration): from then on the file must not be created anew.</summary>
    internal bool IsTracking
    {
        get
        {
            lock (_gate)
            {
                return _identity is not null;
            }
        }
    }

    /// <summary>Remembers which file the database is (called once it is open and migrated).</summary>
    internal void Track()
    {
        lock (_gate)
        {
            _identity?.Dispose();
            // Read-only and shared: only to ask the kernel later whether this inode is still linked at the path.
            _identity = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            _problem = null;
        }
    }

    private string? Problem()
    {
        // Linux: /proc/self/fd/N names the opened file, with " (deleted)" once it is no longer linked (deleted, or
        // replaced by a rename or a copy over a deleted file). Elsewhere only a vanished file is noticed.
        var unlinked = false;
        var link = $"/proc/self/fd/{_identity!.SafeFileHandle.DangerousGetHandle()}";
        try
        {
            unlinked = new FileInfo(link).LinkTarget?.EndsWith(" (deleted)", StringComparison.Ordinal) == true;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        // The path is asked after the link: a file deleted between the two steps is then reported deleted, not replaced.
        if (!File.Exists(_path))
        {
            return $"the database file {_path} was deleted while the bot runs; restart the bot (after restoring a backup to that path, or it starts a new database); webhooks are refused until then";
        }

        return unlinked
            ? $"the database file {_path} was replaced while the bot runs; restart the bot to use the new file; webhooks are refused until then"
            : null;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _identity?.Dispose();
            _identity = null;
        }
    }
}
