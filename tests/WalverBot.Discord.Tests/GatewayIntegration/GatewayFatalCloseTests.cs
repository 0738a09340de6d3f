using Microsoft.Extensions.Logging;
using WalverBot.Discord.Gateway;
using static WalverBot.Discord.Tests.GatewayIntegration.GatewayWorld;

namespace WalverBot.Discord.Tests.GatewayIntegration;

/// <summary>
/// Fatal close codes end the process instead of looping. These tests set <see cref="Environment.ExitCode"/>
/// (what the hosted service does in production) and put it back, so they run one at a time in this class.
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
    public async Task Fatal_close_stops_the_host_with_one_line_of_advice_and_exit_code_78(int code, string advice)
    {
        await using var world = await StartAsync();
        try
        {
            await world.Gateway.WaitForIdentifyAsync(timeout: WaitTimeout);
            await world.Gateway.CloseAsync(code);

            await AssertStoppedAsync(world, code, advice);
        }
        finally
        {
            Environment.ExitCode = 0;
        }
    }

    [Fact]
    public async Task Server_Members_intent_off_in_the_portal_closes_4014_and_stops_the_host()
    {
        await using var world = await StartAsync(gatewayOptions: o => o.GuildMembersIntentEnabled = false);
        try
        {
            await AssertStoppedAsync(world, 4014, "enable the Server Members intent in the Discord developer portal (Bot → Privileged Gateway Intents)");
            Assert.Equal(3, Assert.Single(world.Gateway.Identifies).Intents);
        }
        finally
        {
            Environment.ExitCode = 0;
        }
    }

    private static async Task AssertStoppedAsync(GatewayWorld world, int code, string advice)
    {
        await world.Shutdown.WaitAsync(WaitTimeout);

        Assert.Equal(GatewayFatalException.ExitCode, Environment.ExitCode);
        Assert.Equal(1, world.Gateway.ConnectionCount);
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
