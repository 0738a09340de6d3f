using Microsoft.Extensions.Options;

namespace WalverBot.Storage;

public static class StorageServiceCollectionExtensions
{
    public static IServiceCollection AddStorage(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.SectionName)
            .Configure<IConfiguration>((options, configuration) =>
                options.ConnectionString = configuration.GetConnectionString("WalverBot") ?? options.ConnectionString)
            .Validate(o => !string.IsNullOrWhiteSpace(o.ConnectionString), "ConnectionStrings:WalverBot must not be empty")
            .Validate(o => string.IsNullOrWhiteSpace(o.ConnectionString) || IsSqliteConnectionString(o.ConnectionString), "ConnectionStrings:WalverBot must be a SQLite connection string such as Data Source=data/walverbot.db")
            // SQLite takes busy_timeout in milliseconds as an int; zero means "fail at once" (SQLite docs, sqlite3_busy_timeout).
            .Validate(o => o.BusyTimeout >= TimeSpan.Zero && o.BusyTimeout <= TimeSpan.FromMinutes(10), "Storage:BusyTimeout must be a time span from 00:00:00 to 00:10:00, e.g. 00:00:10")
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

    /// <summary>Creates the database file and folder when missing and applies pending migrations.</summary>
    public static async Task InitializeStorageAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var database = services.GetRequiredService<Database>();
        try
        {
            database.EnsureFolderExists();
            await using var connection = await database.OpenAsync(cancellationToken);
            await Migrations.ApplyAsync(connection, cancellationToken);
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            throw new Configuration.StartupException(
                $"cannot open the database '{database.DataSource}' ({ex.Message}); check ConnectionStrings:WalverBot and that its folder is writable", ex);
        }
    }
}
