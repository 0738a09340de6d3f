using Microsoft.Data.Sqlite;
using WalverBot.Storage;

namespace WalverBot.Operations;

/// <summary>
/// <c>WalverBot backup &lt;file&gt;</c>: SQLite's online backup of the bot's database, safe while the bot runs
/// (it copies a consistent snapshot; the bot's writers wait at most a moment, within their busy timeout).
/// Writes to a temporary file beside the target and renames it, so a failed backup never leaves a half file.
/// </summary>
public static class BackupCommand
{
    public static async Task<int> RunAsync(IServiceProvider services, string target, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var database = services.GetRequiredService<Database>();
        if (database.IsPostgres)
        {
            // The server owns the data: its own tools take a consistent copy (https://www.postgresql.org/docs/current/app-pgdump.html).
            error.WriteLine($"backup: the database is PostgreSQL ({database.DataSource}); back it up with the server's tools, e.g. pg_dump --format=custom --file=walverbot.dump <database>, and restore with pg_restore");
            return OperatorCommands.Failure;
        }

        var source = Path.GetFullPath(database.DataSource);
        if (!File.Exists(source))
        {
            error.WriteLine($"backup: the database {source} does not exist (check ConnectionStrings:WalverBot)");
            return OperatorCommands.Failure;
        }

        var destination = Path.GetFullPath(target);
        if (destination == source)
        {
            error.WriteLine("backup: the backup file must not be the database itself");
            return OperatorCommands.Usage;
        }

        var temporary = $"{destination}.{Environment.ProcessId}.partial";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            await using (var from = await database.OpenAsync(cancellationToken))
            await using (var to = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = temporary, Pooling = false }.ToString()))
            {
                await to.OpenAsync(cancellationToken);
                ((SqliteConnection)from).BackupDatabase(to);
                // The copy is a standalone file: no -wal beside it to lose.
                await using var command = to.CreateCommand();
                command.CommandText = "PRAGMA journal_mode = DELETE;";
                await command.ExecuteNonQueryAsync(cancellationToken);
                command.CommandText = "PRAGMA integrity_check;";
                var integrity = (string?)await command.ExecuteScalarAsync(cancellationToken);
                if (integrity is not "ok")
                {
                    error.WriteLine($"backup: the copy failed its integrity check ({integrity})");
                    return OperatorCommands.Failure;
                }
            }

            File.Move(temporary, destination, overwrite: true);
            output.WriteLine($"backup: {source} copied to {destination} ({new FileInfo(destination).Length} bytes)");
            return OperatorCommands.Success;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"backup: failed to copy {source} to {destination}: {ex.Message}");
            return OperatorCommands.Failure;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }
}
