using WalverBot.Following;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.Following;

/// <summary>A follower whose RPC endpoint is down: the webhook path and readiness do not depend on it.</summary>
public sealed class FollowerOutageTests
{
    [Fact]
    public async Task With_the_chain_endpoint_down_readyz_stays_ready_webhooks_are_granted_and_one_key_safe_line_says_the_follower_paused()
    {
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?>
        {
            ["Chains:ethereum:RpcUrl"] = "http://127.0.0.1:1/v3/s3cret-rpc-key",
            ["Chains:ethereum:WsUrl"] = "ws://127.0.0.1:1/ws/s3cret-ws-key",
        }, startBot: false);
        bot.Configure = builder => builder.Services.Configure<FollowerTuning>(t => t.RetryBaseDelay = TimeSpan.FromMilliseconds(20));
        await bot.StartBotAsync();

        await Eventually.UntilAsync(() => bot.Logs.Lines.Any(l => l.Contains("transfer follower paused", StringComparison.Ordinal)), "the follower's outage line");
        using var http = new HttpClient();
        var ready = await http.GetAsync($"{bot.BaseUrl}/readyz");
        Assert.Equal(200, (int)ready.StatusCode);
        Assert.Equal(200, (await bot.SendAsync(bot.Webhook())).Status);
        await bot.WaitForRolePutsAsync(BotScenario.AliceId);

        Assert.Single(bot.Logs.Lines, l => l.Contains("transfer follower paused", StringComparison.Ordinal));
        await Eventually.UntilAsync(() => bot.Logs.Lines.Any(l => l.Contains("newHeads subscription at \"ws://127.0.0.1:1\" is down", StringComparison.Ordinal)), "the subscription's outage line",
            observed: () => string.Join("\n", bot.Logs.Lines.Where(l => l.Contains("Chain", StringComparison.Ordinal))));
        Assert.DoesNotContain(bot.Logs.Lines, l => l.Contains("s3cret", StringComparison.Ordinal));
        Assert.Equal(-1, bot.Services.GetRequiredService<FollowerStates>().For("ethereum").Processed);
    }
}
