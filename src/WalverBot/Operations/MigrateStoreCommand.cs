using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using WalverBot.Storage;

namespace WalverBot.Operations;

/// <summary>
/// <c>WalverBot migrate-store --to "&lt;PostgreSQL connection string&gt;"</c>: copies the configured SQLite database
/// into an empty PostgreSQL database, in one PostgreSQL transaction, and commits only when every table has as many rows
/// there as in SQLite. The bot must be stopped (its lock file is taken), so nothing is accepted after the copy.
/// </summary>
public static class MigrateStoreCommand
{
    /// <summary>Every table, parents before children (role_grants point to webhook_events).</summary>
    public static readonly IReadOnlyList<string> Tables =
    [
        "verifications", "webhook_events", "role_grants", "wallet_links", "decisions", "command_registrations", "guild_settings",
        "identity_codes", "holdings_wallets", "holdings_members", "holdings_verifications", "holdings_removals",
        "follower_cursors", "follower_blocks", "follower_rechecks",
    ];

    /// <summary>Tables whose id is an identity column on PostgreSQL: its sequence continues after the copied ids.</summary>
    private static readonly string[] IdentityTables = ["webhook_events", "role_grants", "decisions", "holdings_removals"];

    public static Task<int> RunAsync(IServiceProvider services, string target, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        RunAsync(services.GetRequiredService<Database>(), target, output, error, cancellationToken);

    public static async Task<int> RunAsync(Database source, string target, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (source.IsPostgres || !source.IsFile || !File.Exists(source.DataSource))
        {
            error.WriteLine("migrate-store: the configured store must be an existing SQLite file (Storage:Provider=sqlite, ConnectionStrings:WalverBot=Data Source=…)");
            return OperatorCommands.Usage;
        }

        NpgsqlConnectionStringBuilder targetBuilder;
        try
        {
            targetBuilder = new NpgsqlConnectionStringBuilder(target);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
        {
            targetBuilder = new NpgsqlConnectionStringBuilder();
        }

        if (string.IsNullOrWhiteSpace(targetBuilder.Host))
        {
            // Not the parser's message: it may quote the string, password included.
            error.WriteLine("migrate-store: --to must be a PostgreSQL connection string such as Host=db;Database=walverbot;Username=walverbot;Password=…");
            return OperatorCommands.Usage;
        }

        if (!source.TryAcquireExclusive())
        {
            error.WriteLine($"migrate-store: a bot is running on {source.DataSource}; stop it first, so nothing is accepted after the copy");
            return OperatorCommands.Failure;
        }

        using var destination = new Database(Options.Create(new StorageOptions { Provider = StorageProviders.Postgres, ConnectionString = target }));
        try
        {
            await using var from = await source.OpenAsync(cancellationToken);
            var version = await Migrations.CurrentVersionAsync(from, cancellationToken);
            if (version != Migrations.LatestVersion)
            {
                error.WriteLine($"migrate-store: {source.DataSource} has schema {version}, this build {Migrations.LatestVersion}; start this build once on it (it migrates), stop it, then copy");
                return OperatorCommands.Failure;
            }

            await using var to = (NpgsqlConnection)await destination.OpenAsync(cancellationToken);
            if (await NotEmptyAsync(to, cancellationToken) is { } why)
            {
                error.WriteLine($"migrate-store: the target database {destination.DataSource} is not empty ({why}); copy only into an empty database");
                return OperatorCommands.Failure;
            }

            await Migrations.ApplyAsync(to, cancellationToken);

            // One read transaction: a consistent snapshot of the SQLite file while it is copied.
            await using var read = await from.BeginTransactionAsync(cancellationToken);
            await using var write = await to.BeginTransactionAsync(cancellationToken);
            var counts = new List<(string Table, long Rows)>();
            foreach (var table in Tables)
            {
                var copied = await CopyAsync(from, read, to, table, cancellationToken);
                var there = await to.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM {table}", transaction: write, cancellationToken: cancellationToken));
                var here = await from.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM {table}", transaction: read, cancellationToken: cancellationToken));
                if (copied != here || there != here)
                {
                    error.WriteLine($"migrate-store: {table} has {here} row(s) in SQLite but {there} in PostgreSQL; nothing was committed");
                    return OperatorCommands.Failure;
                }

                counts.Add((table, here));
            }

            foreach (var table in IdentityTables)
            {
                // An identity column does not see explicit ids: continue after the largest one
                // (https://www.postgresql.org/docs/current/functions-sequence.html).
                await to.ExecuteAsync(new CommandDefinition(
                    $"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)",
                    transaction: write, cancellationToken: cancellationToken));
            }

            await write.CommitAsync(cancellationToken);
            foreach (var (table, rows) in counts)
            {
                output.WriteLine($"ok    {table}: {rows} row(s) in both");
            }

            output.WriteLine($"migrate-store: {counts.Sum(c => c.Rows)} row(s) copied from {source.DataSource} to PostgreSQL {destination.DataSource}; " +
                "set Storage:Provider=postgres and ConnectionStrings:WalverBot to that database, then start the bot");
            return OperatorCommands.Success;
        }
        catch (Exception ex) when (ex is DbException or IOException or InvalidOperationException or TimeoutException)
        {
            error.WriteLine($"migrate-store: failed, nothing was committed to PostgreSQL: {ex.Message}");
            return OperatorCommands.Failure;
        }
    }

    /// <summary>Why the target is not empty, or null: tables of its own, a schema of a newer build, or rows in ours.</summary>
    private static async Task<string?> NotEmptyAsync(NpgsqlConnection to, CancellationToken cancellationToken)
    {
        var tables = (await to.QueryAsync<string>(new CommandDefinition(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename", cancellationToken: cancellationToken))).ToList();
        var foreign = tables.Where(t => t != "schema_version" && !Tables.Contains(t)).ToList();
        if (foreign.Count > 0)
        {
            return $"it has other tables: {string.Join(", ", foreign.Take(5))}";
        }

        // Tables of an earlier, failed copy (migrated, nothing committed) are empty and fine.
        foreach (var table in Tables.Where(tables.Contains))
        {
            if (await to.ExecuteScalarAsync<bool>(new CommandDefinition($"SELECT EXISTS (SELECT 1 FROM {table})", cancellationToken: cancellationToken)))
            {
                return $"{table} has rows";
            }
        }

        return null;
    }

    /// <summary>Streams one table with PostgreSQL's binary COPY; values are converted to the target column's type.</summary>
    private static async Task<long> CopyAsync(DbConnection from, DbTransaction read, NpgsqlConnection to, string table, CancellationToken cancellationToken)
    {
        var types = (await to.QueryAsync<(string Column, string Type)>(new CommandDefinition(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table",
            new { table }, cancellationToken: cancellationToken))).ToDictionary(c => c.Column, c => c.Type);
        await using var command = from.CreateCommand();
        command.Transaction = read;
        command.CommandText = $"SELECT * FROM {table}";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        await using var import = await to.BeginBinaryImportAsync(
            $"COPY {table} ({string.Join(", ", columns)}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        long rows = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            await import.StartRowAsync(cancellationToken);
            for (var i = 0; i < columns.Count; i++)
            {
                var value = reader.GetValue(i);
                if (value is DBNull)
                {
                    await import.WriteNullAsync(cancellationToken);
                }
                else if (types[columns[i]] == "bigint")
                {
                    await import.WriteAsync(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture), NpgsqlDbType.Bigint, cancellationToken);
                }
                else
                {
                    await import.WriteAsync(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!, NpgsqlDbType.Text, cancellationToken);
                }
            }

            rows++;
        }

        await import.CompleteAsync(cancellationToken);
        return rows;
    }
}
