using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using WalverBot.Configuration;
using WalverBot.Commands;
using WalverBot.Discord;
using WalverBot.Discord.Gateway;

namespace WalverBot.Tests.Configuration;

/// <summary>The bot's policy for the Discord library is set where the app adds it, not inside the library.</summary>
public sealed class DiscordSetupTests
{
    [Fact]
    public void The_bot_identifies_with_guilds_and_members_as_WalverBot_and_reads_its_command_guilds_from_the_Discord_section()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Discord:Token"] = "setup-test-token",
            ["Discord:CommandGuildIds:0"] = "123456789012345678",
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();

        services.AddWalverBotDiscord();
        using var provider = services.BuildServiceProvider();

        var gateway = provider.GetRequiredService<IOptions<DiscordGatewayOptions>>().Value;
        Assert.Equal(GatewayIntents.Guilds | GatewayIntents.GuildMembers, gateway.Intents);
        Assert.Equal(("WalverBot", "WalverBot"), (gateway.Browser, gateway.Device));
        Assert.Equal("setup-test-token", provider.GetRequiredService<IOptions<DiscordOptions>>().Value.Token);
        Assert.Equal([123456789012345678UL], provider.GetRequiredService<IOptions<SlashCommandOptions>>().Value.CommandGuildIds);
        provider.GetRequiredService<IStartupValidator>().Validate();
    }
}
