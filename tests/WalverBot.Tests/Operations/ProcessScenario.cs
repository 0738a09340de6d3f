using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.Operations;

/// <summary>The fakes of <see cref="BotScenario"/> (one guild, Holder role, alice and bob) for a bot run as a real process.</summary>
public sealed class ProcessScenario : IAsyncDisposable
{
    private ProcessScenario(BotScenario fakes) => Fakes = fakes;

    public BotScenario Fakes { get; }

    public Testing.FakeDiscord.FakeDiscordServer Discord => Fakes.Discord;

    public string DatabasePath => Fakes.DatabasePath;

    /// <summary>Settings as environment variables: the fakes, a database of its own, the declared verification.</summary>
    public Dictionary<string, string> Environment { get; private set; } = [];

    public static async Task<ProcessScenario> StartAsync()
    {
        var fakes = await BotScenario.StartAsync(startBot: false);
        Directory.CreateDirectory(Path.GetDirectoryName(fakes.DatabasePath)!);
        var scenario = new ProcessScenario(fakes);
        scenario.Environment = BotProcess.EnvironmentFor(fakes.Discord, fakes.DatabasePath);
        scenario.Environment["Verifications__0__Id"] = BotScenario.VerificationId;
        scenario.Environment["Verifications__0__GuildId"] = BotScenario.GuildId;
        scenario.Environment["Verifications__0__RoleId"] = BotScenario.HolderRoleId;
        scenario.Environment["Verifications__0__Secret"] = BotScenario.Secret;
        scenario.Environment["Verifications__0__Chain"] = "ethereum";
        return scenario;
    }

    public Dictionary<string, string> With(params (string Key, string Value)[] settings)
    {
        var copy = new Dictionary<string, string>(Environment);
        foreach (var (key, value) in settings)
        {
            copy[key] = value;
        }

        return copy;
    }

    public ValueTask DisposeAsync() => Fakes.DisposeAsync();
}
