using static WalverBot.Discord.Tests.GatewayIntegration.GatewayWorld;

namespace WalverBot.Discord.Tests.GatewayIntegration;

/// <summary>
/// What makes the client start a new session. Each test waits out Discord's IDENTIFY spacing (one per 5 s with
/// max_concurrency 1, as the fake's /gateway/bot says), so these live apart from the faster session tests.
/// </summary>
public sealed class GatewayNewSessionTests
{
    [Fact]
    public async Task Op9_not_resumable_identifies_a_new_session_on_the_gateway_url()
    {
        await using var world = await StartAsync();
        await world.WaitForSessionAsync();

        await world.Gateway.SendInvalidSessionAsync(resumable: false);
        var second = await world.Gateway.WaitForIdentifyAsync(2, WaitTimeout);
        await world.Gateway.WaitForReadyAsync(2, WaitTimeout);
        await world.WaitForReadyAsync();

        AssertNewSession(world, second);
        // Docs: after op 9 wait a random 1–5 s before identifying.
        var first = world.Gateway.Identifies[0];
        Assert.InRange(second.At - first.At, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));
    }

    [Theory]
    [InlineData(4009)] // session timed out
    [InlineData(4007)] // invalid seq
    public async Task Close_that_ends_the_session_identifies_a_new_one(int code)
    {
        await using var world = await StartAsync();
        await world.WaitForSessionAsync();

        await world.Gateway.CloseAsync(code);
        var second = await world.Gateway.WaitForIdentifyAsync(2, WaitTimeout);
        await world.Gateway.WaitForReadyAsync(2, WaitTimeout);
        await world.WaitForReadyAsync();

        AssertNewSession(world, second);
        Assert.Equal(code, world.Gateway.Connections[0].ServerCloseCode);
    }

    private static void AssertNewSession(GatewayWorld world, Testing.FakeDiscord.GatewayIdentify second)
    {
        // Discord answers op 9 to an IDENTIFY within 5 s of the previous one (max_concurrency 1); the client waits its turn.
        Assert.Equal(0, world.Gateway.IdentifiesRefused);
        Assert.Equal("/", second.Path);
        Assert.Equal(world.Discord.Token, second.Token);
        Assert.Empty(world.Gateway.Resumes);
        Assert.Equal(2, world.Gateway.SessionIds.Count);
        Assert.Equal(2, world.Gateway.ConnectionCount);
        Assert.True(world.Status.IsReady);
    }
}
