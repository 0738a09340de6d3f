using System.Diagnostics;
using Npgsql;
using WalverBot.Testing.Net;

namespace WalverBot.Testing.Postgres;

/// <summary>
/// A throwaway PostgreSQL cluster: initdb + pg_ctl from Debian's postgresql package, in a temporary folder (data, unix
/// socket and log), on a free 127.0.0.1 port; removed by <see cref="Remove"/> (or by a later start, once the process
/// that made it is gone). Shared by the tests (PostgresCluster, one per test run) and the bench (`stores`).
/// PostgreSQL refuses to run as root (https://www.postgresql.org/docs/current/server-start.html): as root, initdb and
/// pg_ctl run as the 'postgres' system user, which owns the folder.
/// </summary>
public sealed class ThrowawayPostgres
{
    public const string NotInstalled =
        "initdb/pg_ctl not found on PATH, in /usr/lib/postgresql/*/bin or in WALVERBOT_TEST_POSTGRES_BIN (install Debian's postgresql package; .ci/run does)";

    private const string NoPostgresUser =
        "running as root and there is no 'postgres' system user to run initdb/pg_ctl as (PostgreSQL refuses root)";

    private static int _databases;

    private readonly string _folder;
    private readonly string _pgCtl;
    private readonly string? _runAs;

    private ThrowawayPostgres(string folder, string pgCtl, string? runAs, int port)
    {
        _folder = folder;
        _pgCtl = pgCtl;
        _runAs = runAs;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The server's version line (e.g. "PostgreSQL 17.6 (Debian 17.6-1) on x86_64-pc-linux-gnu …"), for reports.</summary>
    public async Task<string> VersionAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres", pooling: false));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version()", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Why a cluster cannot be started on this machine, or null when it can.</summary>
    public static string? Unavailable() =>
        FindBinaries() is null ? NotInstalled
        : IsRoot() && !UserExists("postgres") ? NoPostgresUser
        : null;

    /// <summary>A connection string to a new, empty database of its own.</summary>
    /// <remarks>
    /// FILE_COPY copies template1's files. The default since PostgreSQL 15, WAL_LOG, writes every block of the template
    /// to the write-ahead log instead, to spare the two checkpoints FILE_COPY forces
    /// (https://www.postgresql.org/docs/current/sql-createdatabase.html); with fsync off a checkpoint costs little.
    /// Measured with psql on this cluster's settings: 110 ms of CPU per database with WAL_LOG, 27 ms with FILE_COPY,
    /// and the suite makes a database for nearly every PostgreSQL test.
    /// </remarks>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"t{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..30];
        await using (var admin = new NpgsqlConnection(ConnectionString("postgres", pooling: false)))
        {
            await admin.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" STRATEGY = FILE_COPY", admin);
            await command.ExecuteNonQueryAsync();
        }

        return ConnectionString(name);
    }

    /// <remarks>
    /// Npgsql's own pool settings, as an operator's connection string has them: the bots under test (and the bench's)
    /// use their pools as deployed. Closing idle connections after 2 s, as this once did, made the kill drill's bots
    /// reconnect about 9 times a second between them (a new server process and a SCRAM exchange each time), which took
    /// half the drill's burst time on an idle machine (26 s against 12 s for 2,000 webhooks). Every store and bot in
    /// the tests is disposed at its end, which closes its pool; only a few tests' own reads keep an idle connection.
    /// </remarks>
    public string ConnectionString(string database, bool pooling = true) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = Port, Username = "walverbot", Password = "not-a-secret", Database = database, Pooling = pooling,
        }.ConnectionString;

    /// <summary>Starts a new cluster; throws <see cref="InvalidOperationException"/> naming the reason when it cannot.</summary>
    /// <param name="durable">
    /// fsync, full-page writes and autovacuum on (PostgreSQL's defaults, what a deployment runs): a commit is on disk
    /// before it returns, as SQLite's synchronous=FULL. All off for tests: their throwaway data needs no disk flush and
    /// no torn-page protection (the first change to a page after each checkpoint would log the whole page, and every
    /// new database brings two checkpoints), and their hundreds of small databases need no vacuum, while autovacuum
    /// visits every one each minute (with 300 databases, 7 CPU-seconds a minute on an idle cluster, taken from the
    /// suite's two cores).
    /// </param>
    public static async Task<ThrowawayPostgres> StartAsync(bool durable = false, int maxConnections = 300)
    {
        if (Unavailable() is { } reason)
        {
            throw new InvalidOperationException("PostgreSQL: " + reason);
        }

        var (initDb, pgCtl) = FindBinaries()!.Value;
        var runAs = IsRoot() ? "postgres" : null;
        RemoveLeftovers(pgCtl, runAs);
        var id = Guid.NewGuid().ToString("N");
        var folder = Path.Combine(Path.GetTempPath(), $"walverbot-pg-{id}");
        // Whose cluster this is: a later start removes it once this process is gone (see RemoveLeftovers). The folder
        // is made under a name that sweep skips and renamed (atomic within a file system) once it names its owner: a
        // second suite on the machine sweeping between the two steps removed a folder that had no owner yet.
        var unnamed = Path.Combine(Path.GetTempPath(), $"walverbot-pgnew-{id}");
        Directory.CreateDirectory(unnamed);
        await File.WriteAllTextAsync(Path.Combine(unnamed, "owner.pid"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.Move(unnamed, folder);
        if (runAs is not null)
        {
            Run("chown", ["-R", $"{runAs}:", folder], null);
        }

        var data = Path.Combine(folder, "data");
        var password = Path.Combine(folder, "pwfile");
        await File.WriteAllTextAsync(password, "not-a-secret\n");
        if (runAs is not null)
        {
            Run("chown", [$"{runAs}:", password], null);
        }

        // scram over TCP (as a real deployment), trust on the private socket folder.
        Run(initDb, ["-D", data, "-U", "walverbot", "--pwfile", password, "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync", "--no-instructions"], runAs);
        for (var attempt = 1; ; attempt++)
        {
            var port = LoopbackPort.Unused();
            var cluster = new ThrowawayPostgres(folder, pgCtl, runAs, port);
            try
            {
                Run(pgCtl, ["-D", data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60",
                    "-o", $"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync={OnOff(durable)} -c full_page_writes={OnOff(durable)} -c autovacuum={OnOff(durable)} -c max_connections={maxConnections}", "start"], runAs);
                return cluster;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // Another process took the port between our probe and the server's bind.
            }
        }
    }

    /// <summary>The postmaster's process id (first line of postmaster.pid), or null when the server is not running.</summary>
    public int? ServerPid()
    {
        try
        {
            var first = File.ReadLines(Path.Combine(_folder, "data", "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Stops the server at once and deletes its folder; never throws.</summary>
    public void Remove()
    {
        try
        {
            if (File.Exists(Path.Combine(_folder, "data", "postmaster.pid")))
            {
                Run(_pgCtl, ["-D", Path.Combine(_folder, "data"), "-m", "immediate", "stop"], _runAs);
            }
        }
        catch (InvalidOperationException)
        {
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static (string InitDb, string PgCtl)? FindBinaries()
    {
        // WALVERBOT_TEST_POSTGRES_BIN names the one folder to use (another PostgreSQL version; or a missing folder, to see the skip).
        if (Environment.GetEnvironmentVariable("WALVERBOT_TEST_POSTGRES_BIN") is { Length: > 0 } only)
        {
            return File.Exists(Path.Combine(only, "initdb")) && File.Exists(Path.Combine(only, "pg_ctl"))
                ? (Path.Combine(only, "initdb"), Path.Combine(only, "pg_ctl"))
                : null;
        }

        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).ToList();
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            folders.AddRange(Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(v => Path.Combine(v, "bin")));
        }

        foreach (var folder in folders)
        {
            var initDb = Path.Combine(folder, "initdb");
            var pgCtl = Path.Combine(folder, "pg_ctl");
            if (File.Exists(initDb) && File.Exists(pgCtl))
            {
                return (initDb, pgCtl);
            }
        }

        return null;
    }

    private static string OnOff(bool on) => on ? "on" : "off";

    private static bool IsRoot() => Environment.UserName == "root";

    private static bool UserExists(string user) => File.ReadLines("/etc/passwd").Any(l => l.StartsWith(user + ":", StringComparison.Ordinal));

    /// <summary>
    /// Clusters of earlier runs whose process is gone: a test host may be ended before its exit handler has stopped the
    /// server or deleted the folder (or killed on a hang), so each start sweeps what the previous ones left.
    /// </summary>
    private static void RemoveLeftovers(string pgCtl, string? runAs)
    {
        foreach (var folder in Directory.GetDirectories(Path.GetTempPath(), "walverbot-pg-*"))
        {
            if (OwnerOf(folder) is { } pid && IsRunning(pid))
            {
                continue; // another run, still going
            }

            new ThrowawayPostgres(folder, pgCtl, runAs, 0).Remove();
        }

        RemoveUnnamedLeftovers(Path.GetTempPath());
    }

    /// <summary>
    /// Removes the folders under <paramref name="parent"/> still under their first name (walverbot-pgnew-*) whose maker is
    /// gone: a process killed between making its folder and renaming it. No server ever ran in one (the cluster is made
    /// only after the rename), so deleting it is all there is to do. A folder whose owner file is missing, or not written
    /// yet, is left for a minute: its maker may be writing it now.
    /// </summary>
    public static void RemoveUnnamedLeftovers(string parent)
    {
        foreach (var folder in Directory.GetDirectories(parent, "walverbot-pgnew-*"))
        {
            if (OwnerOf(folder) is { } pid ? IsRunning(pid) : Directory.GetLastWriteTimeUtc(folder) > DateTime.UtcNow.AddMinutes(-1))
            {
                continue;
            }

            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone already (another run swept it), or not ours to delete: left as it is.
            }
        }
    }

    /// <summary>The process id in a folder's owner file; null when the file is missing, empty or being written.</summary>
    private static int? OwnerOf(string folder)
    {
        try
        {
            return int.TryParse(File.ReadAllText(Path.Combine(folder, "owner.pid")), out var pid) ? pid : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool IsRunning(int pid) => Directory.Exists($"/proc/{pid}");

    private static void Run(string file, IReadOnlyList<string> arguments, string? runAs)
    {
        var start = runAs is null ? new ProcessStartInfo(file) : new ProcessStartInfo("runuser", ["-u", runAs, "--", file]);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        // initdb refuses a working directory the postgres user cannot read (/root).
        start.WorkingDirectory = Path.GetTempPath();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(file)} did not finish within 2 minutes");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {error.Result}{output.Result}");
        }
    }
}
