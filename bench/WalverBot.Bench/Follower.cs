extern alias bot;

using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using Microsoft.Extensions.DependencyInjection;
using WalverBot.Following;
using WalverBot.Holdings;
using WalverBot.Storage;
using WalverBot.Testing.Chains;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Verifications;

namespace WalverBot.Bench;

/// <summary>
/// The EVM transfer follower on anvil with a block every second (<c>--block-time 1</c>) and many linked wallets on one
/// ERC-20 contract: the lag from a transfer being mined (its receipt seen) to the role PUT at the fake Discord, and the
/// RPC requests per block, idle and while transfers happen. The real bot host runs in this process; a loopback proxy counts
/// the RPC requests.
/// </summary>
public static class FollowerBench
{
    private const string VerificationId = "wb_follow";
    private const string WhaleRoleId = "1300000000000000011";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task RunAsync(int wallets, int transfers, int pollMs, string folder, Action<string> line)
    {
        await using var node = await AnvilNode.StartAsync(extraArguments: ["--block-time", "1"]);
        var token = await node.DeployErc20Async("Bench Token", "BNCH");
        var slot = await RecheckBench.BalancesSlotAsync(node, token);
        var addresses = Enumerable.Range(0, wallets).Select(RecheckBench.Address).ToArray();
        await RecheckBench.FundAsync(node, token, slot, addresses, BigInteger.Pow(10, 18) * 5);

        await using var proxy = RecheckBench.CountingProxy.Start(node.RpcUrl);
        var discord = await FakeDiscordServer.StartAsync();
        await using var gateway = await FakeGatewayServer.StartAsync(discord, new FakeGatewayOptions { HeartbeatIntervalMs = 41_250 });
        BotUnderTest.SeedGuild(discord, 0);
        discord.AddRole(BotUnderTest.GuildId, new FakeRole(WhaleRoleId, "Whale", 2, FakeDiscordPermissions.Of(FakeDiscordPermissions.ViewChannel)));
        discord.SetRateLimit(FakeDiscordBuckets.MemberRoles, 100_000, TimeSpan.FromSeconds(1));
        for (var i = 0; i < transfers; i++)
        {
            discord.AddMember(BotUnderTest.GuildId, new FakeMember(UserId(i), $"holder{i}"));
        }

        var settings = new Dictionary<string, string>
        {
            ["Discord:Token"] = discord.Token,
            ["Discord:ApiBaseUrl"] = discord.ApiBaseUrl,
            ["ConnectionStrings:WalverBot"] = $"Data Source={Path.Combine(folder, "follower.db")}",
            ["Urls"] = "http://127.0.0.1:0",
            ["Webhook:PublicBaseUrl"] = "https://bot.example.test",
            ["Chains:ethereum:RpcUrl"] = proxy.Url,
            ["Chains:ethereum:Confirmations"] = "2",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var app = bot::Program.BuildApp([.. settings.Select(p => $"--{p.Key}={p.Value}")], builder =>
        {
            builder.Services.Remove(builder.Services.Single(d => d.ImplementationType == typeof(RecheckWorker)));
            builder.Services.Configure<FollowerTuning>(t => t.PollInterval = TimeSpan.FromMilliseconds(pollMs));
        });
        await bot::Program.PrepareAsync(app);
        await app.StartAsync();
        try
        {
            var verification = new Verification
            {
                Id = VerificationId,
                GuildId = ulong.Parse(BotUnderTest.GuildId, Inv),
                RoleId = ulong.Parse(BotUnderTest.RoleId, Inv),
                SecretHash = SecretHasher.Hash(BotUnderTest.Secret),
                Chain = "ethereum",
                TokenAddress = token,
                TokenStandard = TokenStandards.Erc20,
                MinAmount = 1m,
                Tiers = [new RoleTier(100m, ulong.Parse(WhaleRoleId, Inv))],
                Source = "command",
            };
            await app.Services.GetRequiredService<VerificationStore>().UpsertAsync(verification);
            await using (var connection = await app.Services.GetRequiredService<Database>().OpenAsync())
            await using (var transaction = await connection.BeginTransactionAsync())
            {
                var role = new HashSet<ulong> { verification.RoleId };
                for (var i = 0; i < wallets; i++)
                {
                    await HoldingsStore.RecordGrantAsync(connection, transaction, verification, ulong.Parse(UserId(i), Inv), addresses[i], [], role, DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
                }

                await transaction.CommitAsync();
            }

            var state = app.Services.GetRequiredService<FollowerStates>().For("ethereum");
            while (state.Processed < 0)
            {
                await Task.Delay(50);
            }

            line($"follower: {wallets} wallets linked on one ERC-20, anvil --block-time 1, Confirmations 2, poll every {pollMs} ms");

            // Idle: no transfer, every block still costs the head, the hashes and the logs of the new range.
            var idleBlocks = 20;
            var startBlock = await node.BlockNumberAsync();
            proxy.Reset();
            while (await node.BlockNumberAsync() < startBlock + (ulong)idleBlocks)
            {
                await Task.Delay(100);
            }

            var idleRequests = proxy.Requests; // the two eth_blockNumber of this loop go to anvil directly, not through the proxy
            line($"follower idle: {idleRequests} RPC requests ({proxy.Calls} calls) over {idleBlocks} blocks = {idleRequests / (double)idleBlocks:0.00} requests per block");

            // Transfers, one at a time: a mint of 99 lifts a holder of 5 to the Whale tier (≥ 100).
            var lags = new List<double>();
            var first = await node.BlockNumberAsync();
            proxy.Reset();
            for (var i = 0; i < transfers; i++)
            {
                var path = $"/guilds/{BotUnderTest.GuildId}/members/{UserId(i)}/roles/{WhaleRoleId}";
                await node.MintErc20Async(token, addresses[i], BigInteger.Pow(10, 18) * 99);
                var mined = Stopwatch.StartNew();
                while (discord.RequestsTo("PUT", path).Count == 0)
                {
                    if (mined.Elapsed > TimeSpan.FromSeconds(60))
                    {
                        throw new InvalidOperationException($"no Whale role for holder {i} within 60 s");
                    }

                    await Task.Delay(10);
                }

                lags.Add(mined.Elapsed.TotalSeconds);
            }

            var blocks = await node.BlockNumberAsync() - first;
            lags.Sort();
            line($"follower transfers: {transfers} lags p50 {Percentile(lags, 0.50):0.00} s, p99 {Percentile(lags, 0.99):0.00} s, min {lags[0]:0.00} s, max {lags[^1]:0.00} s");
            line($"follower busy: {proxy.Requests} RPC requests ({proxy.Calls} calls) over {blocks} blocks = {proxy.Requests / (double)blocks:0.00} requests per block (with {transfers} re-checks)");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static string UserId(int i) => (1_600_000_000_000_000_000UL + (ulong)i).ToString(Inv);

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
