using Microsoft.Extensions.Logging;
using WalverBot.Discord.Gateway;
using static WalverBot.Discord.Tests.GatewayIntegration.GatewayWorld;

namespace WalverBot.Discord.Tests.GatewayIntegration;

/// <summary>
/// Fatal close codes stop the gateway for good, without looping and without ending the host: the stop is reported on
/// <see cref="IGatewayStatus.Stopped"/> for the host to act on. Nothing process-wide is touched, so these run in parallel.
/// </summary>
public sealed class GatewayFatalCloseTests
{
    public static TheoryData<int, string> FatalCodes() => new()
    {
        { 4004, "Discord:Token" },
        { 4010, "Discord:ShardIds" },
        { 4011, "Discord:ShardCount" },
        { 4012, "update WalverBot" },
        { 4013, "update WalverBot" },
        { 4014, "enable the Server Members intent in the Discord developer portal" },
    };

    [Theory]
    [MemberData(nameof(FatalCodes))]
    public async Task Fatal_close_stops_the_gateway_with_one_line_of_advice_and_the_host_keeps_running(int code, string advice)
    {
        await using var world = await StartAsync();
        await world.Gateway.WaitForIdentifyAsync(timeout: WaitTimeout);
        await world.Gateway.CloseAsync(code);

        await AssertStoppedAsync(world, code, advice);
    }

    [Fact]
    public async Task Server_Members_intent_off_in_the_portal_closes_4014_and_stops_the_gateway()
    {
        await using var world = await StartAsync(gatewayOptions: o => o.GuildMembersIntentEnabled = false);

        await AssertStoppedAsync(world, 4014, "enable the Server Members intent in the Discord developer portal (Bot → Privileged Gateway Intents)");
        Assert.Equal(3, Assert.Single(world.Gateway.Identifies).Intents);
    }

    private static async Task AssertStoppedAsync(GatewayWorld world, int code, string advice)
    {
        var stop = await world.Status.WhenStopped.WaitAsync(WaitTimeout);

        // The stop is reported once the client has returned: every shard is closed and none will connect again.
        Assert.Equal(code, stop.CloseCode);
        Assert.Contains(advice, stop.Advice, StringComparison.Ordinal);
        Assert.False(world.Shutdown.IsCompleted, "the host must keep running after a fatal close");
        Assert.Equal(1, world.Gateway.ConnectionCount);
        Assert.Single(world.Gateway.Identifies);
        Assert.Equal(code, world.Gateway.Connections.Single().ServerCloseCode);
        Assert.False(world.Status.IsReady);
        Assert.Contains(code.ToString(System.Globalization.CultureInfo.InvariantCulture), world.Status.NotReadyReason, StringComparison.Ordinal);

        var problems = world.Logs.Entries.Where(e => e.Level >= LogLevel.Warning).ToList();
        var line = Assert.Single(problems);
        Assert.Equal(LogLevel.Critical, line.Level);
        Assert.Null(line.Exception);
        Assert.Contains(code.ToString(System.Globalization.CultureInfo.InvariantCulture), line.Message, StringComparison.Ordinal);
        Assert.Contains(advice, line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line.Message);
        Assert.DoesNotContain(world.Logs.Lines, l => l.Contains("reconnecting", StringComparison.Ordinal));
    }
}
