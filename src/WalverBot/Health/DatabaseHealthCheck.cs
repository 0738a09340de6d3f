using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using WalverBot.Storage;

namespace WalverBot.Health;

/// <summary>
/// The database can store a webhook now: it opens for writing and its write lock can be taken (<c>BEGIN IMMEDIATE</c>,
/// rolled back at once, nothing written). A read-only file or volume, a missing folder, or another writer holding the
/// lock longer than <see cref="LockWait"/> makes the bot not ready. (A full disk is not seen until a write fails.)
/// </summary>
public sealed class DatabaseHealthCheck(Database database, IOptions<StorageOptions> options) : IHealthCheck
{
    /// <summary>How long the probe waits for another writer; short, so it answers within a probe's timeout.</summary>
    public static readonly TimeSpan LockWait = TimeSpan.FromSeconds(1);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // A file deleted or replaced under the bot: pooled connections would still "store" webhooks into the lost file.
        if (database.Health.Check() is { } lost)
        {
            return HealthCheckResult.Unhealthy($"cannot store webhooks: {lost}");
        }

        if (database.IsPostgres)
        {
            return await CheckPostgresAsync(cancellationToken);
        }

        // A connection of its own (not pooled), so the short busy timeout never leaks into the webhooks' connections;
        // ReadWrite, not ReadWriteCreate, so a probe never creates an empty database where the real one went missing.
        var builder = new SqliteConnectionStringBuilder(options.Value.ConnectionString)
        {
            Pooling = false,
            DefaultTimeout = (int)Math.Ceiling(LockWait.TotalSeconds),
        };
        if (database.IsFile && builder.Mode == SqliteOpenMode.ReadWriteCreate)
        {
            builder.Mode = SqliteOpenMode.ReadWrite;
        }

        try
        {
            await using var connection = new SqliteConnection(builder.ToString());
            await connection.OpenAsync(cancellationToken);
            // SQLite opens a file it may not write (read-only file or volume) read-only, without an error, and a
            // BEGIN IMMEDIATE then still succeeds: ask it (sqlite3_db_readonly, https://sqlite.org/c3ref/db_readonly.html).
            if (SQLitePCL.raw.sqlite3_db_readonly(connection.Handle, "main") == 1)
            {
                return HealthCheckResult.Unhealthy("cannot store webhooks: the database file is read-only");
            }

            await connection.ExecuteAsync($"PRAGMA busy_timeout = {(int)LockWait.TotalMilliseconds}");
            // A command of its own: after a row-returning PRAGMA in the same command, Microsoft.Data.Sqlite 10 let a
            // BEGIN IMMEDIATE that stayed busy pass without an error (seen with this check against a held lock).
            await connection.ExecuteAsync("BEGIN IMMEDIATE; ROLLBACK;");
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is SqliteException or IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            return HealthCheckResult.Unhealthy($"cannot store webhooks: {ex.Message}");
        }
    }

    /// <summary>PostgreSQL: the server answers within the wait and accepts writes (not a read-only standby).</summary>
    private async Task<HealthCheckResult> CheckPostgresAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(LockWait * 2);
        try
        {
            await using var connection = await database.OpenAsync(timeout.Token);
            var readOnly = await connection.ExecuteScalarAsync<string>(new CommandDefinition("SHOW transaction_read_only", cancellationToken: timeout.Token));
            return readOnly == "on"
                ? HealthCheckResult.Unhealthy("cannot store webhooks: the PostgreSQL server is read-only (a standby?)")
                : HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"cannot store webhooks: {ex.Message}");
        }
    }
}
