using Microsoft.Extensions.Options;
using WalverBot.Chains;
using WalverBot.Commands;
using WalverBot.Configuration;
using WalverBot.Discord;
using WalverBot.Following;
using WalverBot.Grants;
using WalverBot.Health;
using WalverBot.Holdings;
using WalverBot.Operations;
using WalverBot.ScaleOut;
using WalverBot.SolanaRealTime;
using WalverBot.Storage;
using WalverBot.Verifications;
using WalverBot.Walver;
using WalverBot.Webhooks;

public partial class Program
{
    public static async Task<int> Main(string[] args)
    {
        try
        {
            if (OperatorCommands.IsCommand(args))
            {
                return await OperatorCommands.RunAsync(args, commandArgs => BuildApp(commandArgs));
            }

            await using var app = BuildApp(args);
            await PrepareAsync(app);
            await app.RunAsync();
            return Environment.ExitCode;
        }
        catch (Exception ex) when (StartupErrors.Lines(ex) is { } lines)
        {
            foreach (var line in lines)
            {
                Console.Error.WriteLine(line);
            }

            return StartupErrors.ConfigurationExitCode;
        }
    }

    /// <summary>What must be in place before the host starts: the database schema and the declared verifications.</summary>
    public static async Task PrepareAsync(WebApplication app)
    {
        // Validate every setting now, all at once, so mistakes are clear lines rather than the host's stack trace.
        app.Services.GetService<IStartupValidator>()?.Validate();
        await app.Services.InitializeStorageAsync();
        await app.Services.SyncDeclaredVerificationsAsync();
    }

    /// <summary>The whole bot: one host running the Discord gateway, the webhook listener and the grant worker.</summary>
    public static WebApplication BuildApp(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.UseWalverBotConfiguration(args);
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            ListenerLimits.Apply(kestrel.Limits, context.Configuration);
            kestrel.AddServerHeader = false;
        });
        builder.AddWalverBotLogging();

        builder.Services.AddStorage();
        builder.Services.AddScaleOut();
        builder.Services.AddWalverBotDiscord();
        builder.Services.AddWalver();
        builder.Services.AddVerifications();
        builder.Services.AddChains();
        builder.Services.AddWebhooks();
        builder.Services.AddGrants();
        builder.Services.AddHoldings();
        builder.Services.AddSolanaRealTime();
        builder.Services.AddFollowers();
        builder.Services.AddCommands();
        builder.Services.AddOperations();
        builder.Services.AddHealth();
        // Every outgoing client (Discord, Walver, chain endpoints) keeps one handler for the host's life and renews its
        // connections every 2 minutes to follow DNS, as the HttpClient guidelines advise. The factory's default handler
        // rotation would leave a timer that keeps a stopped host alive for its two minutes (dotnet/runtime#113494).
        builder.Services.ConfigureHttpClientDefaults(http => http
            .UseSocketsHttpHandler((handler, _) => handler.PooledConnectionLifetime = TimeSpan.FromMinutes(2))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan));
        configure?.Invoke(builder);

        // Before Build: building the host reads Logging and Serilog settings, and the pipeline reads Webhook ones.
        SettingsCheck.ThrowIfInvalid(builder.Configuration);
        // After the check: it adds Operations:Urls to the addresses Kestrel binds, which the check would blame on Urls.
        builder.AddOperationsListener();
        var app = builder.Build();
        app.UseWalverBotErrors();
        app.UseOperations();
        app.UseWebhookProtection();
        app.MapHealth();
        app.MapWebhooks();
        return app;
    }
}
