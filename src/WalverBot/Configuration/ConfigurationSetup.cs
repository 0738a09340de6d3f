namespace WalverBot.Configuration;

public static class ConfigurationSetup
{
    /// <summary>Built-in defaults, used when config/appsettings.json is absent.</summary>
    private static readonly Dictionary<string, string?> Defaults = new()
    {
        ["Urls"] = "http://0.0.0.0:8080",
        ["ConnectionStrings:WalverBot"] = "Data Source=data/walverbot.db",
    };

    /// <summary>
    /// The documented order (README, Configuration): config/appsettings.json, then config/appsettings.{Environment}.json, then environment
    /// variables, then the command line. The config folder is the one next to the application, whatever
    /// the working directory is.
    /// </summary>
    public static WebApplicationBuilder UseWalverBotConfiguration(this WebApplicationBuilder builder, string[] args)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "config");
        var configuration = builder.Configuration;
        configuration.Sources.Clear();
        configuration
            .AddInMemoryCollection(Defaults)
            .AddJsonFile(Path.Combine(folder, "appsettings.json"), optional: true, reloadOnChange: false)
            .AddJsonFile(Path.Combine(folder, $"appsettings.{builder.Environment.EnvironmentName}.json"), optional: true, reloadOnChange: false)
            .AddEnvironmentVariables("ASPNETCORE_")
            .AddEnvironmentVariables()
            .AddCommandLine(args);
        return builder;
    }
}
