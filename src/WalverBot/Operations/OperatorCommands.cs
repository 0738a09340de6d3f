using WalverBot.Configuration;

namespace WalverBot.Operations;

/// <summary>
/// The operator commands of the executable, chosen by the first argument:
/// <c>check</c>, <c>backup &lt;file&gt;</c>, <c>migrate-store --to &lt;connection string&gt;</c> and <c>--health [url]</c>. Anything else runs the bot.
/// Exit codes: 0 success; 1 a check failed, the backup failed or the bot is unhealthy;
/// 2 the configuration is invalid or the command line is wrong (as for the bot's own start).
/// </summary>
public static class OperatorCommands
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int ConfigurationInvalid = StartupErrors.ConfigurationExitCode;
    public const int Usage = StartupErrors.ConfigurationExitCode;

    public static bool IsCommand(string[] args) => args.Length > 0 && args[0] is "check" or "backup" or "--health" or "migrate-store";

    public static async Task<int> RunAsync(string[] args, Func<string[], WebApplication> buildApp)
    {
        var rest = args[1..];
        switch (args[0])
        {
            case "--health":
            {
                var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = rest });
                builder.UseWalverBotConfiguration(rest);
                var url = rest.FirstOrDefault(a => a.StartsWith("http", StringComparison.OrdinalIgnoreCase));
                return await HealthProbe.RunAsync(url, builder.Configuration, Console.Out);
            }

            case "check":
            {
                await using var app = buildApp(Quiet(rest));
                using var cancel = CancelOnCtrlC();
                return await CheckCommand.RunAsync(app.Services, Console.Out, cancel.Token);
            }

            case "backup":
            {
                if (rest.Length == 0 || rest[0].StartsWith('-'))
                {
                    Console.Error.WriteLine("usage: WalverBot backup <file>   (copies the database while the bot runs)");
                    return Usage;
                }

                await using var app = buildApp(Quiet(rest[1..]));
                using var cancel = CancelOnCtrlC();
                return await BackupCommand.RunAsync(app.Services, rest[0], Console.Out, Console.Error, cancel.Token);
            }

            case "migrate-store":
            {
                if (rest.Length < 2 || rest[0] != "--to" || string.IsNullOrWhiteSpace(rest[1]))
                {
                    Console.Error.WriteLine("usage: WalverBot migrate-store --to \"<PostgreSQL connection string>\"   (copies the SQLite database into an empty PostgreSQL one; stop the bot first)");
                    return Usage;
                }

                await using var app = buildApp(Quiet(rest[2..]));
                using var cancel = CancelOnCtrlC();
                return await MigrateStoreCommand.RunAsync(app.Services, rest[1], Console.Out, Console.Error, cancel.Token);
            }

            default:
                throw new ArgumentException($"not an operator command: {args[0]}", nameof(args));
        }
    }

    /// <summary>The commands print a report; the bot's information logs would only interleave with it.</summary>
    private static string[] Quiet(string[] args) => ["--Serilog:MinimumLevel:Default=Warning", .. args];

    private static CancellationTokenSource CancelOnCtrlC()
    {
        var source = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            source.Cancel();
        };
        return source;
    }
}
