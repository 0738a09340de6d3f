namespace WalverBot.Testing.Files;

/// <summary>
/// Points the test process's temporary folder (<c>TMPDIR</c>, which <see cref="Path.GetTempPath"/> reads on Linux, and
/// which child processes inherit) at a folder in <c>/dev/shm</c> when that is a RAM file system with room to spare.
/// Every test database lives under the temporary folder, and the bot commits with <c>PRAGMA synchronous = FULL</c>:
/// on a disk each commit waits for an fsync (milliseconds each, far more when the disk is shared), so a pass over
/// 2,000 members, one commit each, spent most of its time waiting for the disk. On tmpfs an fsync returns at once and
/// SQLite still runs the same statements and syncs. Without a roomy <c>/dev/shm</c> (Docker gives 64 MB) nothing changes.
/// </summary>
public static class MemoryTempFolder
{
    /// <summary>The room a whole run may need at once (databases, PostgreSQL clusters, anvil state), with a margin.</summary>
    public const long RequiredFreeBytes = 2L * 1024 * 1024 * 1024;

    private const string SharedMemory = "/dev/shm";

    /// <summary>Redirects <c>TMPDIR</c> once per process; returns the folder used (unchanged when the redirect does not apply).</summary>
    public static string Use()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("WALVERBOT_TESTS_DISK_TMP") == "1")
        {
            return Path.GetTempPath();
        }

        try
        {
            var drive = new DriveInfo(SharedMemory);
            if (drive.DriveFormat != "tmpfs" || drive.AvailableFreeSpace < RequiredFreeBytes)
            {
                return Path.GetTempPath();
            }

            // One folder shared by the runs of every test assembly; 1777 like /tmp, so the postgres user that
            // PostgreSQL tests run initdb as can create its own folder inside.
            var folder = Path.Combine(SharedMemory, "walverbot-tests-tmp");
            Directory.CreateDirectory(folder);
            File.SetUnixFileMode(folder, (UnixFileMode)Convert.ToInt32("1777", 8));
            Environment.SetEnvironmentVariable("TMPDIR", folder);
            return Path.GetTempPath();
        }
        catch (IOException)
        {
            return Path.GetTempPath();
        }
        catch (UnauthorizedAccessException)
        {
            return Path.GetTempPath();
        }
    }
}
