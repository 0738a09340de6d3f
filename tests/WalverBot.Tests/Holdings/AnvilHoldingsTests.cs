using System.Numerics;
using Dapper;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Commands;
using WalverBot.Grants;
using WalverBot.Holdings;
using WalverBot.Storage;
using WalverBot.Testing.Chains;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.FakeWalver;
using WalverBot.Testing.Waiting;
using WalverBot.Tests.Chains;
using WalverBot.Tests.Hosting;
using WalverBot.Verifications;

namespace WalverBot.Tests.Holdings;

/// <summary>
/// End to end on a real chain: the real bot host with the real EVM reader pointed at anvil (Multicall3, OpenZeppelin
/// 4.9.6 presets), the fake Discord, and re-check passes on a <see cref="FakeTimeProvider"/>. Roles follow real transfers.
/// </summary>
[Trait("Needs", "anvil")]
public sealed class AnvilHoldingsTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    private const string Alice = BotScenario.AliceId;
    private const string Bob = BotScenario.BobId;
    private const string Holder = BotScenario.HolderRoleId;
    private const string Whale = HoldingsScenario.WhaleRoleId;
    private static readonly BigInteger Ether = BigInteger.Pow(10, 18);

    private AnvilNode Node => anvil.Node;

    // Dev accounts 1-8 hold and send tokens; account 9 is where they go. Each test deploys its own token.
    private string Wallet(int n) => Node.Accounts[n];

    private string Sink => Node.Accounts[9];

    [Fact]
    public async Task An_erc20_webhook_is_granted_on_the_bots_own_read_and_a_claim_above_the_chain_is_a_token_mismatch_with_both_figures()
    {
        var token = await Node.DeployErc20Async();
        await Node.MintErc20Async(token, Wallet(1), Ether * 5);
        await Node.MintErc20Async(token, Wallet(2), Ether * 3);
        await using var s = await AnvilBot.StartAsync(Node, TokenStandards.Erc20, token);

        var granted = await s.GrantAsync("alice", Alice, Wallet(1), claimed: 5m);
        Assert.Equal(Outcomes.Granted, granted.Outcome);
        Assert.Contains("shows 5 held", granted.Reason);
        Assert.Contains(Holder, s.RolesOf(Alice));

        var block = await Node.BlockNumberAsync();
        var mismatch = await s.GrantAsync("bob", Bob, Wallet(2), claimed: 50m);
        Assert.Equal(Outcomes.TokenMismatch, mismatch.Outcome);
        Assert.Contains("claims 50", mismatch.Reason);
        Assert.Contains($"chain shows 3 at block/slot {block}", mismatch.Reason);
        Assert.Equal(0, s.Bot.RolePuts(Bob));
    }

    [Fact]
    public async Task An_erc20_holder_who_transfers_below_the_minimum_keeps_the_role_for_the_grace_loses_it_after_and_gets_it_back_on_return()
    {
        var token = await Node.DeployErc20Async();
        await Node.MintErc20Async(token, Wallet(1), Ether * 5);
        await using var s = await AnvilBot.StartAsync(Node, TokenStandards.Erc20, token);
        await s.GrantAsync("alice", Alice, Wallet(1), claimed: 5m);
        Assert.Contains(Holder, s.RolesOf(Alice));

        await Node.TransferErc20Async(token, Wallet(1), Sink, Ether * 9 / 2);
        var first = await s.NextCheckAsync();
        Assert.Equal(1, first.Checked);
        Assert.Equal(1, first.Strikes);
        Assert.Empty(first.Removed);
        Assert.Contains(Holder, s.RolesOf(Alice));
        Assert.Equal(0, s.Deletes(Alice, Holder));

        var second = await s.NextCheckAsync();
        var removed = Assert.Single(second.Removed);
        Assert.Equal((ulong.Parse(Alice), ulong.Parse(Holder), 0.5m), (removed.UserId, removed.RoleId, removed.Amount));
        Assert.Equal(1, s.Deletes(Alice, Holder));
        Assert.DoesNotContain(Holder, s.RolesOf(Alice));
        var revoked = (await s.DecisionsAsync(Alice))[0];
        Assert.Equal(Outcomes.RevokedHoldings, revoked.Outcome);
        Assert.Contains("holds 0.5", revoked.Reason);

        await Node.TransferErc20Async(token, Sink, Wallet(1), Ether * 9 / 2);
        var back = await s.NextCheckAsync();
        Assert.Equal([ulong.Parse(Holder)], back.Added.Select(a => a.RoleId));
        Assert.Contains(Holder, s.RolesOf(Alice));
        Assert.Equal(Outcomes.Regranted, (await s.DecisionsAsync(Alice))[0].Outcome);
    }

    [Fact]
    public async Task Minting_more_adds_the_tier_at_the_next_check_and_two_wallets_of_one_member_are_summed()
    {
        var token = await Node.DeployErc20Async();
        await Node.MintErc20Async(token, Wallet(1), Ether * 60);
        await Node.MintErc20Async(token, Wallet(3), Ether * 40);
        await Node.MintErc20Async(token, Wallet(4), Ether * 70);
        await using var s = await AnvilBot.StartAsync(Node, TokenStandards.Erc20, token);

        await s.GrantAsync("alice", Alice, Wallet(1), claimed: 60m);
        Assert.DoesNotContain(Whale, s.RolesOf(Alice));
        await Node.MintErc20Async(token, Wallet(1), Ether * 50);
        var up = await s.NextCheckAsync();
        Assert.Equal([ulong.Parse(Whale)], up.Added.Select(a => a.RoleId));
        Assert.Superset(new HashSet<string> { Holder, Whale }, s.RolesOf(Alice));

        await s.GrantAsync("bob", Bob, Wallet(3), claimed: 40m);
        Assert.DoesNotContain(Whale, s.RolesOf(Bob));
        var summed = await s.GrantAsync("bob", Bob, Wallet(4), claimed: 70m);
        Assert.Contains("110 held over 2 linked wallets", summed.Reason);
        Assert.Contains(Whale, s.RolesOf(Bob));

        // 40 + 60 is still the Whale minimum; either wallet alone would be a strike.
        await Node.TransferErc20Async(token, Wallet(4), Sink, Ether * 10);
        var check = await s.NextCheckAsync();
        Assert.Equal(3, check.Checked); // alice's wallet and bob's two
        Assert.Equal(0, check.Strikes);
        Assert.Contains(Whale, s.RolesOf(Bob));
    }

    [Fact]
    public async Task An_erc721_gate_counts_the_nfts_and_grants_then_removes_on_a_real_transfer()
    {
        var nft = await Node.DeployErc721Async();
        await Node.MintErc721Async(nft, Wallet(1)); // token id 0
        await using var s = await AnvilBot.StartAsync(Node, TokenStandards.Erc721, nft, tiers: []);
        Assert.Equal(Outcomes.Granted, (await s.GrantAsync("alice", Alice, Wallet(1), claimed: 1m)).Outcome);
        Assert.Contains(Holder, s.RolesOf(Alice));

        await Node.TransferErc721Async(nft, Wallet(1), Sink, 0);
        Assert.Equal(1, (await s.NextCheckAsync()).Strikes);
        Assert.Contains(Holder, s.RolesOf(Alice));
        var removed = Assert.Single((await s.NextCheckAsync()).Removed);
        Assert.Equal(0m, removed.Amount);
        Assert.Equal(1, s.Deletes(Alice, Holder));
        Assert.DoesNotContain(Holder, s.RolesOf(Alice));
    }

    [Fact]
    public async Task An_erc1155_gate_reads_only_its_id_and_grants_then_removes_on_a_real_transfer()
    {
        var items = await Node.DeployErc1155Async();
        await Node.MintErc1155Async(items, Wallet(1), 7, 2);
        await Node.MintErc1155Async(items, Wallet(1), 8, 500); // another id: never counted
        await using var s = await AnvilBot.StartAsync(Node, TokenStandards.Erc1155, items, tokenId: "7", tiers: []);
        var granted = await s.GrantAsync("alice", Alice, Wallet(1), claimed: 2m);
        Assert.Equal(Outcomes.Granted, granted.Outcome);
        Assert.Contains("shows 2 held", granted.Reason);

        await Node.TransferErc1155Async(items, Wallet(1), Sink, 7, 2);
        Assert.Equal(1, (await s.NextCheckAsync()).Strikes);
        var removed = Assert.Single((await s.NextCheckAsync()).Removed);
        Assert.Equal(0m, removed.Amount);
        Assert.Equal(1, s.Deletes(Alice, Holder));
        Assert.DoesNotContain(Holder, s.RolesOf(Alice));
    }

    [Fact]
    public async Task A_token_address_without_code_pauses_the_re_checks_removes_nothing_and_tells_the_admins()
    {
        var token = await Node.DeployErc20Async();
        await Node.MintErc20Async(token, Wallet(1), Ether * 5);
        await Node.MintErc20Async(token, Wallet(2), Ether * 5);
        await using var s = await AnvilBot.StartAsync(Node, TokenStandards.Erc20, token);
        await s.GrantAsync("alice", Alice, Wallet(1), claimed: 5m);
        await s.GrantAsync("bob", Bob, Wallet(2), claimed: 5m);

        // A mistyped address: an account with no code, whose calls succeed with no data.
        await s.SetTokenAsync("0x00000000000000000000000000000000deadbeef");
        var members = await s.DumpAsync("holdings_members");
        var paused = await s.NextCheckAsync();

        Assert.NotNull(paused.PausedReason);
        Assert.Contains("no contract at this address", paused.PausedReason);
        Assert.Empty(paused.Removed);
        Assert.Equal(members, await s.DumpAsync("holdings_members")); // no strike either
        Assert.Empty(s.Discord.RequestsTo("DELETE", "/guilds/*/members/*/roles/*"));
        Assert.Contains(Holder, s.RolesOf(Alice));
        Assert.Contains(Holder, s.RolesOf(Bob));
        Assert.Contains(await s.AllDecisionsAsync(), d => d.Outcome == Outcomes.RecheckPaused && d.Reason.Contains("no contract", StringComparison.Ordinal));
        await s.Discord.WaitUntilAsync(d => d.Messages.Any(m => m.ChannelId == HoldingsScenario.LogChannelId && (m.Body["content"]?.GetValue<string>() ?? "").Contains("paused")),
            TimeSpan.FromSeconds(10), "a log-channel notice of the pause");

        // Paused: the next scheduled pass reads nothing and removes nothing.
        var after = await s.NextCheckAsync();
        Assert.Equal(0, after.Checked);
        Assert.Empty(s.Discord.RequestsTo("DELETE", "/guilds/*/members/*/roles/*"));
    }

    [Fact]
    public async Task An_admins_walver_recheck_reads_the_chain_and_adds_the_tier_a_real_mint_earned()
    {
        var token = await Node.DeployErc20Async();
        await Node.MintErc20Async(token, Wallet(1), Ether * 60);
        await using var s = await AnvilBot.StartAsync(Node, TokenStandards.Erc20, token);
        await s.GrantAsync("alice", Alice, Wallet(1), claimed: 60m);
        Assert.DoesNotContain(Whale, s.RolesOf(Alice));
        await Node.MintErc20Async(token, Wallet(1), Ether * 50);

        await s.Bot.Gateway.WaitForReadyAsync();
        var interaction = s.Discord.CreateCommandInteraction(BotScenario.GuildId, HoldingsScenario.LogChannelId, HoldingsScenario.AdminId,
            Commands.CommandScenario.Slash("recheck", Commands.CommandScenario.Text("verification", "wb_anvil")));
        await s.Bot.Gateway.DispatchAsync("INTERACTION_CREATE", interaction.Payload);
        await s.Discord.WaitUntilAsync(d => d.EditsOfOriginal(interaction.Id).Any(e => (e.Body["content"]?.GetValue<string>() ?? "").StartsWith("Re-checked", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20), "the recheck's final answer");

        Assert.StartsWith("Re-checked `wb_anvil`: 1 wallets read", s.Discord.EditsOfOriginal(interaction.Id)[^1].Body["content"]!.GetValue<string>());
        Assert.Superset(new HashSet<string> { Holder, Whale }, s.RolesOf(Alice));
        var decision = (await s.DecisionsAsync(Alice))[0];
        Assert.Equal(Outcomes.Granted, decision.Outcome);
        Assert.Contains("holds 110", decision.Reason);
    }

    /// <summary>
    /// The bot with <c>Chains:ethereum:RpcUrl</c> on anvil (the real chain readers) and a token-gated verification
    /// (Holder ≥ 1, Whale ≥ 100 unless told otherwise); the bot's own re-check worker is left out so that the test's clock
    /// decides when a pass runs.
    /// </summary>
    private sealed class AnvilBot : IAsyncDisposable
    {
        private const string VerificationId = "wb_anvil";

        private AnvilBot(BotScenario bot, Verification verification)
        {
            Bot = bot;
            Verification = verification;
        }

        public Verification Verification { get; private set; }
        public BotScenario Bot { get; }
        public FakeDiscordServer Discord => Bot.Discord;
        public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

        public static async Task<AnvilBot> StartAsync(AnvilNode node, string standard, string token, string? tokenId = null, IReadOnlyList<RoleTier>? tiers = null)
        {
            var bot = await BotScenario.StartAsync(new Dictionary<string, string?>
            {
                ["Security:Signatures"] = "Off",
                ["Chains:ethereum:RpcUrl"] = node.RpcUrl.ToString(),
            }, startBot: false);
            bot.Discord.AddRole(BotScenario.GuildId, new FakeRole(Whale, "Whale", 2, FakeDiscordPermissions.Of(FakeDiscordPermissions.ViewChannel)));
            bot.Discord.AddChannel(new FakeChannel(HoldingsScenario.LogChannelId, BotScenario.GuildId, "walver-log"));
            bot.Discord.AddRole(BotScenario.GuildId, new FakeRole(HoldingsScenario.ModeratorRoleId, "Moderator", 3, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles)));
            bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(HoldingsScenario.AdminId, "admin") { Roles = [HoldingsScenario.ModeratorRoleId] });
            bot.Configure = builder =>
            {
                var worker = builder.Services.Single(d => d.ImplementationType == typeof(RecheckWorker));
                builder.Services.Remove(worker);
                // These tests drive every check themselves; the transfer follower's own re-checks are tested in Following/.
                builder.Services.Remove(builder.Services.Single(d => d.ImplementationType == typeof(WalverBot.Following.FollowerWorker)));
            };
            await bot.StartBotAsync();
            var verification = new Verification
            {
                Id = VerificationId,
                GuildId = HoldingsScenario.GuildId,
                RoleId = HoldingsScenario.HolderRole,
                SecretHash = SecretHasher.Hash(BotScenario.Secret),
                Chain = "ethereum",
                TokenAddress = token,
                TokenStandard = standard,
                TokenId = tokenId,
                IsNft = standard != TokenStandards.Erc20,
                MinAmount = 1m,
                Tiers = tiers ?? [new RoleTier(100m, HoldingsScenario.WhaleRole)],
                Source = "command",
            };
            await bot.Services.GetRequiredService<VerificationStore>().UpsertAsync(verification);
            await bot.Services.GetRequiredService<CommandStore>().SetLogChannelAsync(HoldingsScenario.GuildId, ulong.Parse(HoldingsScenario.LogChannelId), CancellationToken.None);
            return new AnvilBot(bot, verification);
        }

        public async Task SetTokenAsync(string token)
        {
            Verification = Verification with { TokenAddress = token };
            await Bot.Services.GetRequiredService<VerificationStore>().UpsertAsync(Verification);
        }

        /// <summary>Verifies <paramref name="wallet"/> with a payload claiming <paramref name="claimed"/> and waits for the decision.</summary>
        public async Task<DecisionEntry> GrantAsync(string username, string userId, string wallet, decimal claimed)
        {
            var before = (await DecisionsAsync(userId)).Count;
            var response = await Bot.SendAsync(FakeWalverWebhook.For(VerificationId).WithDiscord(username).WithSecret(BotScenario.Secret).WithWallet(wallet)
                .WithChain("ethereum").WithToken(Verification.TokenAddress!, 1m, claimed, passed: true) with { Message = $"verify {wallet} {Guid.NewGuid():N}" });
            Assert.Equal(200, response.Status);
            var decisions = await Eventually.UntilAsync(() => DecisionsAsync(userId), d => d.Count > before, $"a decision about {userId}",
                describe: d => string.Join(", ", d.Select(x => x.Outcome)));
            return decisions[0];
        }

        /// <summary>Moves the test's clock past <c>Rechecks:Interval</c> (every wallet due) and runs the scheduled pass.</summary>
        public async Task<PassResult> NextCheckAsync()
        {
            Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
            using var scope = Bot.Services.CreateScope();
            var store = ActivatorUtilities.CreateInstance<HoldingsStore>(scope.ServiceProvider, Time);
            var engine = ActivatorUtilities.CreateInstance<RecheckEngine>(scope.ServiceProvider, store, Time);
            var verification = (await Bot.Services.GetRequiredService<VerificationStore>().FindAsync(VerificationId))!;
            return await engine.RunAsync(verification, new PassOptions(), null, CancellationToken.None);
        }

        /// <summary>The decisions about a member, newest first.</summary>
        public Task<IReadOnlyList<DecisionEntry>> DecisionsAsync(string userId) =>
            Bot.Services.GetRequiredService<GrantLedger>().RecentDecisionsAsync(HoldingsScenario.GuildId, ulong.Parse(userId), 100, CancellationToken.None);

        public Task<IReadOnlyList<DecisionEntry>> AllDecisionsAsync() =>
            Bot.Services.GetRequiredService<GrantLedger>().RecentDecisionsAsync(HoldingsScenario.GuildId, null, 1000, CancellationToken.None);

        /// <summary>Rows of a table as text, to show that something changed nothing.</summary>
        public async Task<string> DumpAsync(string table)
        {
            await using var connection = await Bot.Services.GetRequiredService<Database>().OpenAsync();
            var rows = await connection.QueryAsync(new CommandDefinition($"SELECT * FROM {table} ORDER BY 1, 2"));
            return string.Join("\n", rows.Select(r => string.Join("|", ((IDictionary<string, object?>)r).Select(p => $"{p.Key}={p.Value}"))));
        }

        public HashSet<string> RolesOf(string userId) => [.. Discord.GetMemberRoles(BotScenario.GuildId, userId)];

        public int Deletes(string userId, string roleId) =>
            Discord.RequestsTo("DELETE", $"/guilds/{BotScenario.GuildId}/members/{userId}/roles/{roleId}").Count;

        public ValueTask DisposeAsync() => Bot.DisposeAsync();
    }
}
