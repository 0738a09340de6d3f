using Serilog;
using Serilog.Formatting.Compact;
using Serilog.Settings.Configuration;

namespace WalverBot.Configuration;

public static class LoggingSetup
{
    /// <summary>
    /// Serilog to the console: readable text by default, compact JSON lines with <c>Logging:Format=json</c>.
    /// Levels and overrides come from the <c>Serilog</c> section.
    /// </summary>
    public static WebApplicationBuilder AddWalverBotLogging(this WebApplicationBuilder builder)
    {
        // Serilog writes the console; other providers (tests' captures) still receive every event.
        // preserveStaticLogger: each host keeps its own logger instead of the process-wide Log.Logger,
        // so hosts that share a process (tests) never write into each other's logs.
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog((services, logger) =>
        {
            var configuration = services.GetRequiredService<IConfiguration>();
            logger.MinimumLevel.Information()
                .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.Hosting.Lifetime", Serilog.Events.LogEventLevel.Information)
                .MinimumLevel.Override("System.Net.Http.HttpClient", Serilog.Events.LogEventLevel.Warning)
                // Polly (the chain RPC clients' retries) logs every attempt at Information: one line per RPC request, 200
                // lines per 100,000 wallets re-checked. Retries and failures it logs at Warning and above still show.
                .MinimumLevel.Override("Polly", Serilog.Events.LogEventLevel.Warning)
                // One warning per refused connection turns a connection flood into a log flood; RejectedConnectionsReporter sums them up.
                .MinimumLevel.Override("Microsoft.AspNetCore.Server.Kestrel.Connections", Serilog.Events.LogEventLevel.Error)
                // The settings the bot documents are levels; the console sink is the one sink it carries. Naming its
                // assembly spares Serilog a search of every assembly beside the bot, which opened each DLL file where
                // no deps file lists them (every host in the test process, 2 % of a start).
                .ReadFrom.Configuration(configuration, new ConfigurationReaderOptions(typeof(ConsoleLoggerConfigurationExtensions).Assembly))
                .Enrich.FromLogContext();

            if (string.Equals(configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase))
            {
                logger.WriteTo.Console(new CompactJsonFormatter());
            }
            else
            {
                logger.WriteTo.Console(TextFormatter());
            }
        }, preserveStaticLogger: true, writeToProviders: true);
        return builder;
    }

    /// <summary>The text format: one line per event (plus an exception's lines), control characters of values escaped.</summary>
    public static Serilog.Formatting.ITextFormatter TextFormatter() =>
        new ControlCharacterEscaping(new Serilog.Formatting.Display.MessageTemplateTextFormatter(
            "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}", System.Globalization.CultureInfo.InvariantCulture));
}
