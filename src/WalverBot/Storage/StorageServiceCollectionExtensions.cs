using Microsoft.Extensions.Options;

namespace WalverBot.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>Two waits (a failing batch ahead, then the webhook's own) fit in the webhook's 10 s request timeout.</summary>
    public static readonly TimeSpan MaxBusyTimeout = TimeSpan.FromSeconds(4);

    public static IServiceCollection AddStorage(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.SectionName)
            .Configure<IConfiguration>((options, configuration) =>
                options.ConnectionString = configuration.GetConnectionString("WalverBot") ?? options.ConnectionString)
            .Validate(o => !string.IsNullOrWhiteSpace(o.ConnectionString), "ConnectionStrings:WalverBot must not be empty")
            .Validate(o => StorageProviders.IsKnown(o.Provider), "Storage:Provider must be sqlite (the default) or postgres")
            .Validate(o => string.IsNullOrWhiteSpace(o.ConnectionString) || !StorageProviders.IsKnown(o.Provider) || o.IsPostgres || IsSqliteConnectionString(o.ConnectionString), "ConnectionStrings:WalverBot must be a SQLite connection string such as Data Source=data/walverbot.db")
            .Validate(o => string.IsNullOrWhiteSpace(o.ConnectionString) || !o.IsPostgres || IsPostgresConnectionString(o.ConnectionString),
                "ConnectionStrings:WalverBot must be a PostgreSQL connection string such as Host=db;Database=walverbot;Username=walverbot;Password=… when Storage:Provider is postgres")
            .Validate(o => o.BusyTimeout > TimeSpan.Zero && o.BusyTimeout <= MaxBusyTimeout,
                "Storage:BusyTimeout must be more than 0 and at most 00:00:04 (a webhook waiting for a locked database must get its answer within the 10 s request timeout)")
            .Validate(o => o.StartupWait >= TimeSpan.Zero && o.StartupWait <= MaxStartupWait,
                "Storage:StartupWait must be between 00:00:00 (give up at once) and 01:00:00")
            .Validate(o => o.EventRetentionDays >= 2, "Storage:EventRetentionDays must be at least 2 (longer than Webhook:MaxEventAge, so a late retry is still seen as a duplicate)")
            .Validate(o => o.EventRetentionDays <= 36500, "Storage:EventRetentionDays must be at most 36500 (a hundred years)")
            .ValidateOnStart();
        services.AddSingleton<Database>();
        services.AddHostedService<RetentionWorker>();
        return services;
    }

    private static bool IsSqliteConnectionString(string connectionString)
    {
        try
        {
            _ = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString);
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// An Npgsql connection string that names a server (Host). An SQLite one ("Data Source=…") has keywords Npgsql does
    /// not know or no Host. Its parse error is not passed on: it may quote the string, password included.
    /// </summary>
    private static bool IsPostgresConnectionString(string connectionString)
    {
        try
        {
            return !string.IsNullOrWhiteSpace(new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Host);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The longest Storage:StartupWait: a server down for longer is an outage to fix, not a start to wait out.</summary>
    public static readonly TimeSpan MaxStartupWait = TimeSpan.FromHours(1);

    /// <summary>The pauses between start-up attempts: 1 s, doubling up to 10 s; no jitter, one process waits alone.</summary>
    public static readonly Discord.ExponentialBackoff StartupRetryPauses = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), 1.0, 1.0);

    /// <summary>
    /// Takes the database for this process, creates the file and folder when missing, applies pending migrations
    /// and releases the event claims of an earlier run (holding the lock proves that run is gone). A PostgreSQL server
    /// that does not answer yet (a server started beside the bot takes seconds to accept connections) is tried again
    /// for Storage:StartupWait; a refusal that waiting cannot fix (a wrong password or database) fails at once.
    /// </summary>
    public static async Task InitializeStorageAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var database = services.GetRequiredService<Database>();
        var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        var wait = services.GetService<IOptions<StorageOptions>>()?.Value.StartupWait ?? TimeSpan.Zero;
        var giveUpAt = time.GetUtcNow() + wait;
        for (var attempt = 0; ; attempt++)
        {
            var pause = StartupRetryPauses.Ceiling(attempt);
            try
            {
                await OpenAndMigrateAsync(services, database, cancellationToken);
                return;
            }
            catch (Npgsql.NpgsqlException ex) when (ex.IsTransient && time.GetUtcNow() + pause <= giveUpAt)
            {
                // Npgsql's IsTransient: no connection, a timeout, or a server that is starting up or out of connections.
                // The pause starts before its line is written, so the line's "in N s" counts from the time it names
                // (and a test clock moved once the line is seen moves this pause too).
                var paused = Task.Delay(pause, time, cancellationToken);
                services.GetService<ILoggerFactory>()?.CreateLogger(typeof(Database)).LogWarning(
                    "PostgreSQL at {DataSource} does not answer yet ({Reason}); trying again in {Pause} s, for up to {Wait} s after start (Storage:StartupWait)",
                    database.DataSource, Describe(ex), pause.TotalSeconds, wait.TotalSeconds);
                await paused;
            }
            catch (Configuration.StartupException)
            {
                throw;
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or IOException or UnauthorizedAccessException or InvalidOperationException or TimeoutException)
            {
                var waited = ex is Npgsql.NpgsqlException { IsTransient: true } && wait > TimeSpan.Zero ? $", still after {wait.TotalSeconds:0} s (Storage:StartupWait)" : "";
                throw new Configuration.StartupException(database.IsPostgres
                    ? $"cannot open the PostgreSQL database '{database.DataSource}' ({Describe(ex)}{waited}); check ConnectionStrings:WalverBot, that the server runs and that the user may create tables"
                    : $"cannot open the database '{database.DataSource}' ({ex.Message}); check ConnectionStrings:WalverBot and that its folder is writable", ex);
            }
        }
    }

    private static async Task OpenAndMigrateAsync(IServiceProvider services, Database database, CancellationToken cancellationToken)
    {
        database.EnsureFolderExists();
        if (!database.TryAcquireExclusive())
        {
            throw new Configuration.StartupException(
                $"another WalverBot process is using the database '{database.DataSource}' (its lock file '{database.DataSource}.lock' is held); run one bot per database");
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await Migrations.ApplyAsync(connection, cancellationToken);
        if (!database.IsPostgres)
        {
            // SQLite: one process per database file (the lock file), so every claim left is this process's last run's.
            // PostgreSQL: other instances may hold live claims; a claim whose lease ran out is taken over by the claim itself.
            await Dapper.SqlMapper.ExecuteAsync(connection, "UPDATE webhook_events SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by IS NOT NULL;");
            database.Health.Track();
        }
        else if (services.GetService<ScaleOut.InstanceIdentity>() is { } identity)
        {
            // Before any claim: a restart of this shard set claims as its dead run did and takes its claims back.
            await identity.AcquireAsync(cancellationToken);
        }
    }

    /// <summary>Npgsql's "Failed to connect to 127.0.0.1:5432" says more with its cause ("Connection refused").</summary>
    private static string Describe(Exception ex) =>
        ex is Npgsql.NpgsqlException { InnerException: { } inner } && !ex.Message.Contains(inner.Message, StringComparison.Ordinal)
            ? $"{ex.Message}: {inner.Message}"
            : ex.Message;
}
