using System.Data;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace WalverBot.Storage;

/// <summary>Opens connections to the bot's SQLite database, configured for a single-process writer.</summary>
public sealed class Database
{
    private readonly string _connectionString;
    private readonly int _busyTimeoutMs;
    private static readonly object Configured = new();
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> _configuredHandles = new();

    static Database()
    {
        // Snowflakes are stored as INTEGER; SQLite integers are signed 64-bit and snowflakes stay below 2^63.
        SqlMapper.AddTypeHandler(new UInt64Handler());
        SqlMapper.AddTypeHandler(new DateTimeOffsetHandler());
    }

    public Database(IOptions<StorageOptions> options)
    {
        var builder = new SqliteConnectionStringBuilder(options.Value.ConnectionString)
        {
            // One shared cache per file is unnecessary: each operation opens its own pooled connection.
            Pooling = true,
        };
        _connectionString = builder.ToString();
        _busyTimeoutMs = (int)options.Value.BusyTimeout.TotalMilliseconds;
        DataSource = builder.DataSource;
    }

    public string DataSource { get; }

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(_connectionString);
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
        if (string.IsNullOrEmpty(DataSource) || DataSource == ":memory:" || DataSource.StartsWith("file:", StringComparison.Ordinal))
        {
            return;
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(DataSource));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }
    }

    private sealed class UInt64Handler : SqlMapper.TypeHandler<ulong>
    {
        public override void SetValue(IDbDataParameter parameter, ulong value)
        {
            parameter.DbType = DbType.Int64;
            parameter.Value = checked((long)value);
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
