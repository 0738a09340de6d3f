using WalverBot.Chains;
using WalverBot.Following;
using WalverBot.Operations;
using WalverBot.Tests.Chains;
using WalverBot.Tests.Storage;

namespace WalverBot.Tests.Following;

/// <summary><c>check</c>'s line per EVM follower: cursor, head and lag when the endpoint answers; the cursor and the cause when not.</summary>
[Trait("Needs", "anvil")]
public sealed class FollowerCheckTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    [Fact]
    public async Task Check_reports_each_followers_cursor_with_the_head_and_lag_or_why_the_head_is_unknown()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var host = ChainTestHost.Create(new Dictionary<string, string?>
        {
            ["Chains:ethereum:RpcUrl"] = anvil.Node.RpcUrl.ToString(),
            ["Chains:ethereum:Confirmations"] = "3",
            ["Chains:base:RpcUrl"] = "http://127.0.0.1:1/v2/an0ther-key",
            ["Chains:base:WsUrl"] = "ws://127.0.0.1:1/ws/an0ther-key",
        }, t => t.MaxRetries = 0, configure: services => services.AddSingleton(database.Database).AddMetrics().AddFollowers());
        var store = host.Services.GetRequiredService<FollowerStore>();
        await anvil.Node.RpcAsync("evm_mine");
        var head = await anvil.Node.BlockNumberAsync();
        await store.CommitAsync("ethereum", new ProcessedBlock(head - 1, "0x01"), [], 10, CancellationToken.None);
        await store.CommitAsync("base", new ProcessedBlock(500, "0x02"), [], 10, CancellationToken.None);
        var output = new StringWriter();

        await FollowerCheck.CheckAsync(host.Services, new CheckReport(output), CancellationToken.None);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("warn  follower base: last processed block 500, head unknown: base RPC http://127.0.0.1:1", lines[0], StringComparison.Ordinal);
        Assert.Equal($"ok    follower ethereum: last processed block {head - 1}, head {head}, lag 1 block(s) (3 confirmation(s), polling eth_blockNumber)", lines[1]);
        Assert.DoesNotContain("an0ther-key", output.ToString(), StringComparison.Ordinal);
    }
}
