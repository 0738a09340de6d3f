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

    [Fact]
    public async Task Resume_of_a_session_Discord_no_longer_holds_gets_op9_and_identifies_anew()
    {
        await using var world = await StartAsync();
        await world.WaitForSessionAsync();

        world.Gateway.ExpireSessions(); // as when the bot stayed away too long
        world.Gateway.DropConnection();
        var resume = await world.Gateway.WaitForResumeAsync(timeout: WaitTimeout);
        var second = await world.Gateway.WaitForIdentifyAsync(2, WaitTimeout);
        await world.Gateway.WaitForReadyAsync(2, WaitTimeout);
        await world.WaitForReadyAsync();

        Assert.Equal("/resume", resume.Path);
        Assert.Equal(0, world.Gateway.ResumedCount);
        // Docs (gateway#resuming): on op 9 d:false "create a new connection with your cached URL" and IDENTIFY.
        Assert.Equal((3, "/"), (second.ConnectionId, second.Path));
        Assert.Equal(0, world.Gateway.IdentifiesRefused);
        Assert.Equal(2, world.Gateway.SessionIds.Count);
        Assert.True(world.Status.IsReady);
    }

    private static void AssertNewSession(GatewayWorld world, Testing.FakeDiscord.FakeGatewayIdentify second)
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
