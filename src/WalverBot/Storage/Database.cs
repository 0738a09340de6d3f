using System.Data;
using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace WalverBot.Storage;

/// <summary>
/// Opens connections to the bot's database: a SQLite file configured for a single-process writer, or a PostgreSQL
/// server (<c>Storage:Provider=postgres</c>) that several instances may share.
/// </summary>
public sealed class Database : IDisposable
{
    private readonly string _connectionString = "";
    // The same, without creating the file: used once the store tracks its file (see OpenAsync).
    private readonly string _existingFileConnectionString = "";
    private readonly NpgsqlDataSource? _postgres;
    private readonly int _busyTimeoutMs;
    private static readonly object Configured = new();
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> _configuredHandles = new();

    static Database()
    {
        // Snowflakes are stored as INTEGER (BIGINT on PostgreSQL): signed 64-bit, and snowflakes stay below 2^63.
        // Dapper's built-in map sends a ulong as DbType.UInt64, which Npgsql refuses; without it the handler below runs.
        SqlMapper.RemoveTypeMap(typeof(ulong));
        SqlMapper.RemoveTypeMap(typeof(ulong?));
        SqlMapper.AddTypeHandler(new UInt64Handler());
        SqlMapper.AddTypeHandler(new DateTimeOffsetHandler());

        // Dapper compiles a parameter binder and a row mapper for each statement and, by default, again for each
        // connection string. Every database this process opens has the schema the migrations make, and Dapper checks
        // a reader's column names and types before it reuses a row mapper: one compile per statement serves them all.
        // (One SQLite file has two spellings, with and without creating the file; the migrate-store command and the
        // tests open many databases: 6,000 compiles in one test run, docs/benchmarks.md.)
        SqlMapper.ConnectionStringComparer = AnyConnectionString.Instance;
    }

    /// <summary>
    /// Connections one instance opens to PostgreSQL at most, unless the connection string sets Maximum Pool Size: four
    /// instances fit in PostgreSQL's default max_connections (100) with room for an operator's psql and backups.
    /// </summary>
    public const int DefaultMaxPoolSize = 20;

    private const int NpgsqlDefaultMaxPoolSize = 100;

    public Database(IOptions<StorageOptions> options)
    {
        if (options.Value.IsPostgres)
        {
            var npgsql = new NpgsqlConnectionStringBuilder(options.Value.ConnectionString);
            // One limit for a store that does not answer, as on SQLite: the webhook gets its 503 inside its 10 s request
            // timeout. Only Npgsql's defaults (15 s to connect, 30 s per command) are lowered; an operator's choice stays.
            var seconds = Math.Max(1, (int)Math.Ceiling(options.Value.BusyTimeout.TotalSeconds));
            if (npgsql.Timeout == 15)
            {
                npgsql.Timeout = seconds;
            }

            if (npgsql.CommandTimeout == 30)
            {
                npgsql.CommandTimeout = seconds;
            }

            // Npgsql's default pool (100) is as large as PostgreSQL's default max_connections (100) on its own, and the
            // grant worker runs up to 256 events at once: in a burst two instances could take every connection the
            // server has and meet "too many clients already". Only the default is lowered; an operator's choice stays.
            if (npgsql.MaxPoolSize == NpgsqlDefaultMaxPoolSize)
            {
                npgsql.MaxPoolSize = DefaultMaxPoolSize;
            }

            _postgres = new NpgsqlDataSourceBuilder(npgsql.ConnectionString).Build();
            // What logs and `check` show: never the password or other keywords of the connection string.
            DataSource = $"{npgsql.Host}:{npgsql.Port}/{npgsql.Database ?? npgsql.Username}";
            Dialect = PostgresDialect.Instance;
            Health = new StoreHealth(DataSource);
            // PostgreSQL locks rows, not the database: the inbox writer and the decision writer commit side by side.
            WriteTurns = WriteTurns.Unordered;
            return;
        }

        var builder = new SqliteConnectionStringBuilder(options.Value.ConnectionString)
        {
            // One shared cache per file is unnecessary: each operation opens its own pooled connection.
            Pooling = true,
            // Microsoft.Data.Sqlite retries a busy database until this command timeout (30 s by default) on top of
            // busy_timeout: one limit, Storage:BusyTimeout, keeps a locked store's answer (503) inside the webhook's
            // 10 s request timeout instead of a 408 for a delivery that is stored later.
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.Value.BusyTimeout.TotalSeconds)),
        };
        _connectionString = builder.ToString();
        _existingFileConnectionString = builder.Mode == SqliteOpenMode.ReadWriteCreate
            ? new SqliteConnectionStringBuilder(_connectionString) { Mode = SqliteOpenMode.ReadWrite }.ToString()
            : _connectionString;
        _busyTimeoutMs = (int)options.Value.BusyTimeout.TotalMilliseconds;
        DataSource = builder.DataSource;
        Health = new StoreHealth(IsFile ? Path.GetFullPath(DataSource) : DataSource);
    }

    /// <summary>The SQLite file (or <c>:memory:</c>), or for PostgreSQL <c>host:port/database</c> (no credentials).</summary>
    public string DataSource { get; }

    /// <summary>Where SQLite and PostgreSQL spell things differently.</summary>
    public ISqlDialect Dialect { get; } = SqliteDialect.Instance;

    /// <summary><c>Storage:Provider=postgres</c>.</summary>
    public bool IsPostgres => _postgres is not null;

    /// <summary>Whether the opened database file is still the one at its path (see <see cref="StoreHealth"/>).</summary>
    public StoreHealth Health { get; }

    /// <summary>Turns at the write lock for the group-commit writers (inbox first, then the worker's decisions).</summary>
    public WriteTurns WriteTurns { get; } = new();

    private volatile string _instanceId = Guid.NewGuid().ToString("N");

    /// <summary>
    /// Who claims webhook events (see <c>WebhookInbox.DueAsync</c>): a fresh id per process run, or on PostgreSQL the
    /// identity of the instance's shard set while it holds it (<c>ScaleOut/InstanceIdentity.cs</c>).
    /// </summary>
    public string InstanceId => _instanceId;

    /// <summary>Claims from now on as <paramref name="identity"/>, which the caller proved no other live process uses.</summary>
    public void AdoptInstanceId(string identity) => _instanceId = identity;

    /// <summary>Claims from now on under a fresh id of this process alone; returns it.</summary>
    public string AdoptFreshInstanceId() => _instanceId = Guid.NewGuid().ToString("N");

    /// <summary>A database in a file on disk (not in memory): the one a lock file and a file identity make sense for.</summary>
    public bool IsFile => !IsPostgres && !string.IsNullOrEmpty(DataSource) && DataSource != ":memory:" && !DataSource.StartsWith("file:", StringComparison.Ordinal);

    private FileStream? _exclusive;

    /// <summary>
    /// Takes the database for this process until it stops: a lock file beside the database, held with an exclusive
    /// advisory lock (flock on Unix), which the OS releases when the process dies, even by kill -9. Two bots on one
    /// file would both grant every event. SQLite's own locks are untouched, so the operator commands (check, backup)
    /// still open the database while the bot runs.
    /// </summary>
    /// <returns>false when another process (or another host in this one) holds it.</returns>
    public bool TryAcquireExclusive()
    {
        if (!IsFile || _exclusive is not null)
        {
            return true;
        }

        var lockPath = Path.GetFullPath(DataSource) + ".lock";
        try
        {
            _exclusive = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return false;
        }

        // For the operator who finds the file: which process holds it.
        _exclusive.SetLength(0);
        var pid = System.Text.Encoding.ASCII.GetBytes($"{Environment.ProcessId}\n");
        _exclusive.Write(pid);
        _exclusive.Flush();
        return true;
    }

    public void Dispose()
    {
        Health.Dispose();
        _postgres?.Dispose();
        _exclusive?.Dispose();
        _exclusive = null;
    }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken);
        }

        // Once the file is deleted or replaced under the bot, a new physical connection would create an empty database
        // at the path (and pooled ones write to the lost file): refuse, so nothing lands in either.
        if (Health.Check() is { } problem)
        {
            throw new StoreUnavailableException(problem);
        }

        // The check above and the open below are two steps: a file deleted between them would be created anew, empty,
        // by a ReadWriteCreate open. Once the file is tracked, open it without creating it (SQLITE_OPEN_READWRITE only,
        // https://www.sqlite.org/c3ref/open.html), so that open fails instead and the caller reports the lost file.
        var connection = new SqliteConnection(Health.IsTracking ? _existingFileConnectionString : _connectionString);
        await connection.OpenAsync(cancellationToken);

        // busy_timeout, foreign_keys and synchronous belong to the physical SQLite handle, which the pool reuses:
        // set them once per handle, not on every open (that was half of a webhook's cost).
        // busy_timeout: wait for another writer (a backup, a second tool) instead of failing at once.
        // synchronous=FULL: a commit (an acknowledged webhook) survives a power loss, not only a crash of the process;
        // group commit in InboxWriter shares that cost (measured: no loss of acceptance throughput, docs/benchmarks.md).
        // journal_mode=WAL is stored in the file and set once by the migrator.
        if (connection.Handle is { } handle && !_configuredHandles.TryGetValue(handle, out _))
        {
            await connection.ExecuteAsync($"PRAGMA busy_timeout = {_busyTimeoutMs}; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;");
            _configuredHandles.AddOrUpdate(handle, Configured);
        }

        return connection;
    }

    /// <summary>Creates the folder of the database file when it is missing.</summary>
    public void EnsureFolderExists()
    {
        if (!IsFile)
        {
            return;
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(DataSource));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }
    }

    /// <summary>Tells Dapper that every connection string reaches the same schema (see the static constructor).</summary>
    private sealed class AnyConnectionString : IEqualityComparer<string>
    {
        public static readonly AnyConnectionString Instance = new();

        public bool Equals(string? x, string? y) => true;

        public int GetHashCode(string connectionString) => 0;
    }

    private sealed class UInt64Handler : SqlMapper.TypeHandler<ulong>
    {
        public override void SetValue(IDbDataParameter parameter, ulong value)
        {
            parameter.DbType = DbType.Int64;
            // As Microsoft.Data.Sqlite binds a ulong: the same bits, so every value round-trips through Parse.
            parameter.Value = unchecked((long)value);
        }

        public override ulong Parse(object value) => value is long l ? unchecked((ulong)l) : Convert.ToUInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Times are stored as ISO 8601 UTC text so they sort and read well in the sqlite3 shell.</summary>
    private sealed class DateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value)
        {
            parameter.DbType = DbType.String;
            parameter.Value = Format(value);
        }

        public override DateTimeOffset Parse(object value) =>
            DateTimeOffset.Parse((string)value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);
    }

    public static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
