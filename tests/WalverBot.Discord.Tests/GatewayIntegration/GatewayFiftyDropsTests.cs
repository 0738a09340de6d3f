using Xunit.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using static WalverBot.Discord.Tests.GatewayIntegration.GatewayWorld;

namespace WalverBot.Discord.Tests.GatewayIntegration;

/// <summary>
/// The session survives 50 forced drops in a row, resuming each time without a new IDENTIFY (Discord docs,
/// events/gateway#resuming: a resumed session replays the missed events; IDENTIFYs count against session_start_limit).
/// </summary>
public sealed class GatewayFiftyDropsTests(ITestOutputHelper output)
{
    private const int Drops = 50;

    [Fact]
    public async Task Session_survives_fifty_drops_in_a_row_resuming_each_time_without_a_new_identify()
    {
        // The production backoff reconnects a healthy session within 1 s; 50 of those would be slow, so reconnect at once.
        await using var world = await StartAsync(s => s.AddSingleton<IReconnectStrategy>(new FixedReconnectStrategy(TimeSpan.Zero)));
        await world.WaitForSessionAsync();

        for (var drop = 1; drop <= Drops; drop++)
        {
            world.Gateway.DropConnection(); // no close frame: a network drop
            try
            {
                await world.Gateway.WaitForResumedAsync(drop, WaitTimeout);
                // RESUMED sent is not RESUMED read: dropping before the client read it would count as a failed resume.
                await world.WaitForReadyAsync();
            }
            catch (TimeoutException)
            {
                output.WriteLine($"stuck after drop {drop}:");
                output.WriteLine(world.Describe());
                throw;
            }
        }

        await world.WaitForReadyAsync();
        Assert.Single(world.Gateway.Identifies);
        Assert.Equal(1, world.Gateway.ReadyCount);
        Assert.Equal(Drops, world.Gateway.Resumes.Count);
        Assert.Equal(Drops, world.Gateway.ResumedCount);
        Assert.Equal(Drops + 1, world.Gateway.ConnectionCount);
        var sessionId = world.Gateway.SessionIds.Single();
        Assert.All(world.Gateway.Resumes, r => Assert.Equal(("/resume", sessionId), (r.Path, r.SessionId)));
        // Every RESUME carries the last sequence the client saw: never lower than GUILD_CREATE's (2), never going back.
        var sequences = world.Gateway.Resumes.Select(r => r.Seq ?? -1).ToList();
        Assert.Equal(2, sequences[0]);
        Assert.Equal(sequences.Order(), sequences);
        Assert.All(world.Gateway.Connections.Take(Drops), c => Assert.True(c.Aborted));

        // Still a working session: a dispatch reaches the handlers.
        await world.Gateway.DispatchAsync("GUILD_MEMBER_ADD", world.Discord.MemberEventJson(GuildId, AliceId));
        await world.Events.WaitForAsync<GuildMemberAddEvent>(1);
    }
}
