using WalverBot.Testing.Waiting;
using WalverBot.Tests.Hosting;
using WalverBot.Tests.Operations;
using static WalverBot.Tests.SolanaRealTime.SolanaRealTimeScenario;

namespace WalverBot.Tests.SolanaRealTime;

/// <summary>A dropped PubSub connection: reported once, metrics say so, reconnect with backoff, every subscription sent again.</summary>
public sealed class SolanaSubscriptionOutageTests
{
    [Fact]
    public async Task A_drop_is_reported_once_while_down_then_the_bot_reconnects_and_resubscribes_and_the_key_never_reaches_the_log()
    {
        await using var s = await StartAsync();
        var account = await s.GrantAsync("alice", BotScenario.AliceId, AliceWallet, 5m);
        await MetricsTests.WaitForMetricsAsync(s.Bot,
            MetricsTests.Series("walverbot_chain_subscription_up", "chain=\"solana\"", "1"),
            MetricsTests.Series("walverbot_chain_subscription_accounts", "chain=\"solana\"", "1"));

        s.Rpc.RefuseWebSockets = true;
        s.Rpc.DropWebSockets();
        // Several reconnects fail (backoff 20–200 ms): still one line for the whole outage.
        await Eventually.UntilAsync(() => s.Rpc.RefusedWebSockets >= 3, "three refused reconnects");
        await MetricsTests.WaitForMetricsAsync(s.Bot, MetricsTests.Series("walverbot_chain_subscription_up", "chain=\"solana\"", "0"));
        var down = s.Bot.Logs.Lines.Where(l => l.Contains("subscription to", StringComparison.Ordinal) && l.Contains("is down", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(down);
        Assert.StartsWith("Warning", line);
        Assert.Contains("roles follow the scheduled re-check", line);
        Assert.False(s.Status.Up);
        // The webhook path never waits for a chain: still ready.
        using (var http = new HttpClient())
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync($"{s.Bot.BaseUrl}/readyz")).StatusCode);
        }

        s.Rpc.RefuseWebSockets = false;
        await Eventually.UntilAsync(() => s.Rpc.SubscribeRequests.Count(a => a == account) == 2 && s.Status.Up, "the resubscription on a new connection");
        Assert.Contains(account, s.Rpc.SubscribedAccounts);
        Assert.Equal(2, s.Status.Sessions);
        await MetricsTests.WaitForMetricsAsync(s.Bot,
            MetricsTests.Series("walverbot_chain_subscription_up", "chain=\"solana\"", "1"),
            MetricsTests.Series("walverbot_chain_subscription_resubscribes_total", "chain=\"solana\"", "1"));

        // Notifications flow again on the new connection.
        await s.Rpc.SetTokenAmountAsync(AliceWallet, Mint, Tokens(7m));
        await Eventually.UntilAsync(() => s.Status.Matched == 1, "a notification on the new connection");
        await MetricsTests.WaitForMetricsAsync(s.Bot, MetricsTests.Series("walverbot_chain_subscription_notifications_total", "matched=\"true\"", "1"));

        Assert.Equal(2, s.Bot.Logs.Lines.Count(l => l.Contains("real-time subscription to \"ws://127.0.0.1:", StringComparison.Ordinal) && l.Contains("is up", StringComparison.Ordinal)));
        Assert.DoesNotContain(ApiKey, s.Bot.Logs.All);
    }
}
