using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Dapper;
using Nethereum.JsonRpc.Client;
using WalverBot.Chains;
using WalverBot.Commands;
using WalverBot.Following;
using WalverBot.Grants;
using WalverBot.Holdings;
using WalverBot.Storage;
using WalverBot.Testing.Chains;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.FakeWalver;
using WalverBot.Testing.Net;
using WalverBot.Tests.Chains;
using WalverBot.Tests.Holdings;
using WalverBot.Tests.Hosting;
using WalverBot.Verifications;

namespace WalverBot.Tests.Following;

/// <summary>
/// The real bot with its transfer follower on a real chain (anvil, automine: each transaction is one block; more blocks
/// with evm_mine), Confirmations 2 and the grace shortened to zero, so a removal is the second check at the next block.
/// Nothing else re-checks: the scheduled re-check worker is left out.
/// </summary>
[Trait("Needs", "anvil")]
[LongRunning(16)]
public sealed class AnvilFollowerTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    private const string Alice = BotScenario.AliceId;
    private const string Bob = BotScenario.BobId;
    private const string Holder = BotScenario.HolderRoleId;
    private const string Whale = HoldingsScenario.WhaleRoleId;
    private static readonly BigInteger Ether = BigInteger.Pow(10, 18);

    private AnvilNode Node => anvil.Node;

    private string Wallet(int n) => Node.Accounts[n];

    private string Sink => Node.Accounts[9];

    [Fact]
    public async Task A_sale_removes_the_role_within_Confirmations_plus_one_blocks_and_a_purchase_gives_it_back_within_Confirmations()
    {
        var token = await Node.DeployErc20Async();
        await Node.MintErc20Async(token, Wallet(1), Ether * 5);
        await using var s = await FollowerBot.StartAsync(Node, token);
        await s.GrantAsync("alice", Alice, Wallet(1));
        Assert.Contains(Holder, s.RolesOf(Alice));
        await s.WaitFollowingAsync();

        await Node.TransferErc20Async(token, Wallet(1), Sink, Ether * 9 / 2);
        var sale = await Node.BlockNumberAsync();
        await MineAsync(2);
        // Two deep: the sale is processed and read at its confirmed block; the first check is a strike, not a removal.
        await Eventually.UntilAsync(async () => s.State.Processed >= (long)sale && await s.StrikeAsync(Alice) is not null, "the sale processed as a first strike");
        Assert.Contains(Holder, s.RolesOf(Alice));
        Assert.Equal(0, s.Deletes(Alice, Holder));

        await MineAsync(1);
        // Answered, not only arrived: the fake records the DELETE before its handler takes the role away.
        await Eventually.UntilAsync(() => s.AnsweredDeletes(Alice, Holder) == 1, "the role removed at the second check");
        Assert.Equal(1, s.Deletes(Alice, Holder));
        Assert.Equal(sale + 3, await Node.BlockNumberAsync());
        Assert.DoesNotContain(Holder, s.RolesOf(Alice));
        var revoked = await s.WaitForDecisionAsync(Alice, Outcomes.RevokedHoldings);
        Assert.Contains("holds 0.5", revoked.Reason);

        await Node.TransferErc20Async(token, Sink, Wallet(1), Ether * 9 / 2);
        var purchase = await Node.BlockNumberAsync();
        await MineAsync(2);
        await Eventually.UntilAsync(() => s.RolesOf(Alice).Contains(Holder), "the role given back when the purchase is two deep");
        Assert.Equal(purchase + 2, await Node.BlockNumberAsync());
        Assert.Equal(Outcomes.Regranted, (await s.WaitForDecisionAsync(Alice, Outcomes.Regranted)).Outcome);
    }

    [Fact]
    public async Task A_reorg_that_undoes_a_processed_sale_leaves_the_role_in_place()
    {
        var token = await Node.DeployErc20Async();
        await Node.MintErc20Async(token, Wallet(1), Ether * 5);
        await using var s = await FollowerBot.StartAsync(Node, token);
        await s.GrantAsync("alice", Alice, Wallet(1));
        await s.WaitFollowingAsync();

        var snapshot = await Node.Web3.Client.SendRequestAsync<string>(new RpcRequest(1, "evm_snapshot"));
        await Node.TransferErc20Async(token, Wallet(1), Sink, Ether * 5);
        var sale = await Node.BlockNumberAsync();
        await MineAsync(2);
        await Eventually.UntilAsync(async () => s.State.Processed >= (long)sale && await s.StrikeAsync(Alice) is not null, "the sale processed as a first strike");

        // The sale's block is orphaned: the chain goes back and grows longer along another path (a different transaction).
        await Node.Web3.Client.SendRequestAsync<bool>(new RpcRequest(2, "evm_revert", snapshot));
        await Node.MintErc20Async(token, Wallet(2), Ether);
        await MineAsync(4);
        var head = await Node.BlockNumberAsync();
        Assert.True(head > sale + 2);

        await Eventually.UntilAsync(async () => s.State.Reorgs == 1 && s.State.Processed >= (long)head - 2 && await s.StrikeAsync(Alice) is null,
            "the reorg found and the orphaned sale's wallet read again on the chain that won");
        Assert.Contains(Holder, s.RolesOf(Alice));
        Assert.Equal(0, s.Deletes(Alice, Holder));
        Assert.DoesNotContain(await s.DecisionsAsync(Alice), d => d.Outcome == Outcomes.RevokedHoldings);

        var metrics = await Operations.MetricsTests.WaitForMetricsAsync(s.Bot,
            Operations.MetricsTests.Series("walverbot_follower_reorgs_total", "chain=\"ethereum\"", "1"),
            Operations.MetricsTests.Series("walverbot_follower_processed_block", "chain=\"ethereum\"", (head - 2).ToString(CultureInfo.InvariantCulture)));
        Assert.Matches(Operations.MetricsTests.Series("walverbot_follower_head_block", "chain=\"ethereum\"", head.ToString(CultureInfo.InvariantCulture)), metrics);
        Assert.Matches(Operations.MetricsTests.Series("walverbot_follower_lag", "chain=\"ethereum\"", "2"), metrics);
        Assert.Matches(Operations.MetricsTests.Series("walverbot_follower_logs_total", "chain=\"ethereum\"", "[1-9][0-9]*"), metrics);
    }

    [Fact]
    public async Task A_bot_stopped_and_restarted_mid_stream_processes_every_block_once()
    {
        var token = await Node.DeployErc20Async();
        var members = new[] { (Alice, "alice"), (Bob, "bob"), ("1400000000000000201", "carol"), ("1400000000000000202", "dave") };
        for (var i = 0; i < members.Length; i++)
        {
            await Node.MintErc20Async(token, Wallet(i + 1), Ether);
        }

        await using var s = await FollowerBot.StartAsync(Node, token);
        s.Discord.AddMember(BotScenario.GuildId, new FakeMember(members[2].Item1, members[2].Item2));
        s.Discord.AddMember(BotScenario.GuildId, new FakeMember(members[3].Item1, members[3].Item2));
        for (var i = 0; i < members.Length; i++)
        {
            await s.GrantAsync(members[i].Item2, members[i].Item1, Wallet(i + 1));
        }

        await s.WaitFollowingAsync();
        // Each purchase of 99 lifts one member to the Whale tier (≥ 100): one decision per purchase, counted below.
        await Node.MintErc20Async(token, Wallet(1), Ether * 99);
        await Node.MintErc20Async(token, Wallet(2), Ether * 99);
        await MineAsync(2);
        await Eventually.UntilAsync(async () => (await s.WhaleGrantsAsync()).Count == 2, "two Whale roles given before the stop");
        await Node.MintErc20Async(token, Wallet(3), Ether * 99);
        await s.Bot.StopBotAsync();
        var firstRun = s.LogRanges.OrderBy(r => r.From).ToList();
        long storedCursor;
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={s.Bot.DatabasePath};Mode=ReadOnly;Pooling=False"))
        {
            storedCursor = await connection.ExecuteScalarAsync<long>("SELECT last_block FROM follower_cursors WHERE chain = 'ethereum'");
        }

        await Node.MintErc20Async(token, Wallet(4), Ether * 99);
        await MineAsync(3);
        var head = await Node.BlockNumberAsync();
        await s.Bot.StartBotAsync();
        await Eventually.UntilAsync(() => s.State.Processed >= (long)head - 2, "the restarted follower caught up");
        await Eventually.UntilAsync(async () => (await s.WhaleGrantsAsync()).Count >= 4, "four Whale roles");

        var whales = await s.WhaleGrantsAsync();
        Assert.Equal(members.Select(m => ulong.Parse(m.Item1)).Order(), whales.Select(d => d.UserId!.Value).Order());
        Assert.All(members, m => s.Bot.AssertOneRolePut(m.Item1, Whale));
        // Each run reads each block once, in ranges that follow each other without a gap. The restart goes on from the
        // block after the stored cursor: a range the stop interrupted (read, its work not committed with the cursor) is
        // read again, a committed one never, and no block is left out.
        Assert.All(s.RangeRequests, n => Assert.Equal(1, n));
        var secondRun = s.LogRanges.Except(firstRun).OrderBy(r => r.From).ToList();
        foreach (var run in new[] { firstRun, secondRun })
        {
            Assert.All(run.Zip(run.Skip(1)), pair => Assert.Equal(pair.First.To + 1, pair.Second.From));
        }

        Assert.InRange((ulong)storedCursor, firstRun[0].From - 1, firstRun[^1].To);
        Assert.Equal((ulong)storedCursor + 1, secondRun[0].From);
        Assert.Equal(head - 2, secondRun[^1].To);
    }

    [Fact]
    public async Task With_a_WsUrl_new_heads_come_over_the_newHeads_subscription_and_the_follower_does_not_wait_for_its_poll()
    {
        var token = await Node.DeployErc20Async();
        await Node.MintErc20Async(token, Wallet(1), Ether * 5);
        // A poll interval of an hour: only the subscription can tell the follower about the new blocks in time.
        await using var s = await FollowerBot.StartAsync(Node, token, new UriBuilder(Node.RpcUrl) { Scheme = "ws" }.Uri, TimeSpan.FromHours(1));
        await s.GrantAsync("alice", Alice, Wallet(1));
        await s.WaitFollowingAsync();
        await Eventually.UntilAsync(() => s.State.Subscribed, "the newHeads subscription live");

        await Node.MintErc20Async(token, Wallet(1), Ether * 95);
        var purchase = await Node.BlockNumberAsync();
        await MineAsync(2);

        await Eventually.UntilAsync(() => s.RolesOf(Alice).Contains(Whale), "the Whale role after the purchase is two deep");
        Assert.True(s.State.Head >= (long)purchase + 2);
    }

    [Fact]
    public async Task A_subscription_that_comes_up_while_the_follower_waits_out_its_poll_interval_ends_that_wait()
    {
        var token = await Node.DeployErc20Async();
        await Node.MintErc20Async(token, Wallet(1), Ether * 5);
        // The WebSocket endpoint refuses connections at first, so the follower falls back to polling, an hour apart.
        await using var relay = TcpRelay.Reserve();
        await using var s = await FollowerBot.StartAsync(Node, token, new Uri($"ws://127.0.0.1:{relay.Port}"), TimeSpan.FromHours(1));
        await s.GrantAsync("alice", Alice, Wallet(1));
        await s.WaitFollowingAsync();
        await Eventually.UntilAsync(() => s.Bot.Logs.Lines.Any(l => l.Contains("newHeads subscription", StringComparison.Ordinal) && l.Contains("is down", StringComparison.Ordinal)),
            "the subscription's outage line");

        // Then the endpoint comes up (a loopback relay to anvil's own port): the follower must not sleep out its hour.
        relay.Start(Node.RpcUrl.Port);
        await Eventually.UntilAsync(() => s.State.Subscribed, "the newHeads subscription live");
        await Node.MintErc20Async(token, Wallet(1), Ether * 95);
        await MineAsync(2);

        await Eventually.UntilAsync(() => s.RolesOf(Alice).Contains(Whale), "the Whale role after the purchase is two deep");
    }

    private async Task MineAsync(int blocks)
    {
        for (var i = 0; i < blocks; i++)
        {
            await Node.RpcAsync("evm_mine");
        }
    }

    private sealed class FollowerBot : IAsyncDisposable
    {
        private const string VerificationId = "wb_follow";

        private FollowerBot(BotScenario bot, LogRangeRecorder ranges)
        {
            Bot = bot;
            Ranges = ranges;
        }

        public BotScenario Bot { get; }
        public FakeDiscordServer Discord => Bot.Discord;
        private LogRangeRecorder Ranges { get; }
        public IReadOnlyList<(ulong From, ulong To)> LogRanges => [.. Ranges.Ranges.Keys];
        public IReadOnlyList<int> RangeRequests => [.. Ranges.Ranges.Values];
        public FollowerState State => Bot.Services.GetRequiredService<FollowerStates>().For("ethereum");

        public static async Task<FollowerBot> StartAsync(AnvilNode node, string token, Uri? wsUrl = null, TimeSpan? poll = null)
        {
            var bot = await BotScenario.StartAsync(new Dictionary<string, string?>
            {
                ["Security:Signatures"] = "Off",
                ["Chains:ethereum:RpcUrl"] = node.RpcUrl.ToString(),
                ["Chains:ethereum:WsUrl"] = wsUrl?.ToString(),
                ["Chains:ethereum:Confirmations"] = "2",
                ["Rechecks:Grace"] = "00:00:00",
            }, startBot: false);
            bot.Discord.AddRole(BotScenario.GuildId, new FakeRole(Whale, "Whale", 2, FakeDiscordPermissions.Of(FakeDiscordPermissions.ViewChannel)));
            var ranges = new LogRangeRecorder();
            bot.Configure = builder =>
            {
                builder.Services.Remove(builder.Services.Single(d => d.ImplementationType == typeof(RecheckWorker)));
                builder.Services.Configure<FollowerTuning>(t =>
                {
                    t.PollInterval = poll ?? TimeSpan.FromMilliseconds(50);
                    t.SubscribedPollInterval = poll ?? TimeSpan.FromMilliseconds(50);
                    t.RetryBaseDelay = TimeSpan.FromMilliseconds(50);
                });
                builder.Services.AddHttpClient(ChainServiceCollectionExtensions.ClientName("ethereum")).AddHttpMessageHandler(() => new RecordingHandler(ranges));
            };
            await bot.StartBotAsync();
            await bot.Services.GetRequiredService<VerificationStore>().UpsertAsync(new Verification
            {
                Id = VerificationId,
                GuildId = HoldingsScenario.GuildId,
                RoleId = HoldingsScenario.HolderRole,
                SecretHash = SecretHasher.Hash(BotScenario.Secret),
                Chain = "ethereum",
                TokenAddress = token,
                TokenStandard = TokenStandards.Erc20,
                MinAmount = 1m,
                Tiers = [new RoleTier(100m, HoldingsScenario.WhaleRole)],
                Source = "command",
            });
            return new FollowerBot(bot, ranges);
        }

        public async Task GrantAsync(string username, string userId, string wallet)
        {
            var before = (await DecisionsAsync(userId)).Count;
            var response = await Bot.SendAsync(FakeWalverWebhook.For(VerificationId).WithDiscord(username).WithSecret(BotScenario.Secret).WithWallet(wallet)
                .WithChain("ethereum").WithToken(await TokenAsync(), 1m, 1m, passed: true) with { Message = $"verify {wallet} {Guid.NewGuid():N}" });
            Assert.Equal(200, response.Status);
            // The grant's decision, not the role alone: the wallet the follower matches transfers against is stored with the
            // decision, after Discord answered the PUT, so a transfer sent once the role showed could be read before it.
            var decisions = await Eventually.UntilAsync(() => DecisionsAsync(userId), d => d.Count > before, $"the grant's decision about {username}",
                describe: d => string.Join(", ", d.Select(x => x.Outcome)));
            Assert.Equal(Outcomes.Granted, decisions[0].Outcome);
            Assert.Contains(Holder, RolesOf(userId));
        }

        public async Task WaitFollowingAsync() =>
            await Eventually.UntilAsync(() => State.Processed >= 0, "the follower started");

        public async Task<string?> StrikeAsync(string userId)
        {
            await using var connection = await Bot.Services.GetRequiredService<Database>().OpenAsync();
            return await connection.ExecuteScalarAsync<string?>("SELECT strike_at FROM holdings_members WHERE verification_id = @VerificationId AND user_id = @userId",
                new { VerificationId, userId = ulong.Parse(userId) });
        }

        public Task<IReadOnlyList<DecisionEntry>> DecisionsAsync(string userId) =>
            Bot.Services.GetRequiredService<GrantLedger>().RecentDecisionsAsync(HoldingsScenario.GuildId, ulong.Parse(userId), 100, CancellationToken.None);

        public async Task<DecisionEntry> WaitForDecisionAsync(string userId, string outcome)
        {
            var decisions = await Eventually.UntilAsync(() => DecisionsAsync(userId), d => d.Any(x => x.Outcome == outcome), $"a {outcome} decision about {userId}");
            return decisions.First(d => d.Outcome == outcome);
        }

        public async Task<IReadOnlyList<DecisionEntry>> WhaleGrantsAsync() =>
            [.. (await Bot.Services.GetRequiredService<GrantLedger>().RecentDecisionsAsync(HoldingsScenario.GuildId, null, 1000, CancellationToken.None))
                .Where(d => d.Outcome == Outcomes.Granted && d.Reason.Contains($"<@&{Whale}>", StringComparison.Ordinal))];

        public HashSet<string> RolesOf(string userId) => [.. Discord.GetMemberRoles(BotScenario.GuildId, userId)];

        public int Deletes(string userId, string roleId) =>
            Discord.RequestsTo("DELETE", $"/guilds/{BotScenario.GuildId}/members/{userId}/roles/{roleId}").Count;

        /// <summary>DELETEs the fake has handled: it records a request on arrival and changes the member's roles after.</summary>
        public int AnsweredDeletes(string userId, string roleId) =>
            Discord.RequestsTo("DELETE", $"/guilds/{BotScenario.GuildId}/members/{userId}/roles/{roleId}").Count(r => r.Status is not null);

        private async Task<string> TokenAsync() => (await Bot.Services.GetRequiredService<VerificationStore>().FindAsync(VerificationId))!.TokenAddress!;

        public ValueTask DisposeAsync() => Bot.DisposeAsync();
    }

    /// <summary>The eth_getLogs block ranges the bot asked for (a range asked twice in one batch, from and to filters, counts once).</summary>
    private sealed class LogRangeRecorder
    {
        public ConcurrentDictionary<(ulong From, ulong To), int> Ranges { get; } = new();

        public void Record(string body)
        {
            using var json = JsonDocument.Parse(body);
            var calls = json.RootElement.ValueKind == JsonValueKind.Array ? [.. json.RootElement.EnumerateArray()] : new[] { json.RootElement };
            foreach (var range in calls.Where(c => c.GetProperty("method").GetString() == "eth_getLogs")
                         .Select(c => c.GetProperty("params")[0]).Select(p => (Hex(p.GetProperty("fromBlock")), Hex(p.GetProperty("toBlock")))).Distinct())
            {
                Ranges.AddOrUpdate(range, 1, (_, n) => n + 1);
            }
        }

        private static ulong Hex(JsonElement e) => ulong.Parse(e.GetString()![2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
    }

    private sealed class RecordingHandler(LogRangeRecorder recorder) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is { } content)
            {
                recorder.Record(await content.ReadAsStringAsync(cancellationToken));
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}
