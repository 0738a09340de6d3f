using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using WalverBot.Testing.FakeDiscord;
using static WalverBot.Discord.Tests.GatewayIntegration.GatewayWorld;

namespace WalverBot.Discord.Tests.GatewayIntegration;

/// <summary>Two shards in one host against the fake gateway, which sends each shard only its own guilds.</summary>
public sealed class GatewayShardingTests
{
    /// <summary>(id >> 22) % 2 == 1, while <see cref="GatewayWorld.GuildId"/> is on shard 0.</summary>
    private const string SecondGuildId = "4400000000004194306";

    [Fact]
    public async Task Two_shards_identify_five_seconds_apart_get_their_own_guilds_and_resume_after_a_drop()
    {
        await using var world = await StartAsync(
            configure: services => services.Configure<DiscordOptions>(o => o.ShardCount = 2),
            seed: discord => discord.AddGuild(SecondGuildId, "Second guild"));

        // The first session alone does not make the bot ready: every shard must be.
        await world.Gateway.WaitForReadyAsync(1, WaitTimeout);
        Assert.False(world.Status.IsReady);

        await world.Gateway.WaitForReadyAsync(2, WaitTimeout);
        await EventuallyAsync(() => world.Status.IsReady && world.Cache.GetGuild(Id(SecondGuildId)) is not null && world.Cache.GetGuild(Id(GuildId)) is not null,
            "both shards ready with their guilds");

        // Each READY listed only its shard's guild.
        Assert.Equal(2, world.Logs.Lines.Count(l => l.Contains("ready as WalverBot", StringComparison.Ordinal) && l.Contains("in 1 guilds", StringComparison.Ordinal)));
        var identifies = world.Gateway.Identifies;
        Assert.Equal(["0/2", "1/2"], identifies.Select(i => $"{i.Shard![0]}/{i.Shard[1]}").Order());
        // max_concurrency 1: one IDENTIFY per 5 s (the fake answers op 9 to a sooner one).
        Assert.True(identifies[1].At - identifies[0].At >= TimeSpan.FromSeconds(5), world.Describe());
        Assert.Equal(0, world.Gateway.IdentifiesRefused);

        world.Gateway.DropConnection();
        await world.Gateway.WaitForResumedAsync(2, WaitTimeout);
        await world.WaitForReadyAsync();
        Assert.Equal(2, world.Gateway.Identifies.Count);
    }

    private static ulong Id(string snowflake) => ulong.Parse(snowflake, CultureInfo.InvariantCulture);
}
