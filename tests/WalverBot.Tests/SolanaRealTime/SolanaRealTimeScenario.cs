using System.Numerics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WalverBot.Commands;
using WalverBot.Grants;
using WalverBot.Holdings;
using WalverBot.SolanaRealTime;
using WalverBot.Testing.Chains;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.FakeWalver;
using WalverBot.Testing.Waiting;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.SolanaRealTime;

/// <summary>
/// The real bot (<see cref="BotScenario"/>) with its real Solana reader and subscriber against <see cref="FakeSolanaRpc"/>
/// (JSON-RPC and PubSub WebSocket, both URLs carrying a fake API key), a declared Solana verification gated on
/// <see cref="Mint"/> (at least 1 token, 6 decimals), a log channel, Rechecks:Grace 0 (two checks still needed) and short
/// subscriber timings. The scheduled re-check worker is left out, so every re-check seen is the subscriber's.
/// </summary>
public sealed class SolanaRealTimeScenario : IAsyncDisposable
{
    public const string ApiKey = "fake-api-key-5f3b9c";
    public const string LogChannelId = "1500000000000000088";
    public const int Decimals = 6;

    public static readonly string Mint = Address("mint");
    public static readonly string AliceWallet = Address("alice");
    public static readonly string BobWallet = Address("bob");

    private SolanaRealTimeScenario(BotScenario bot, FakeSolanaRpc rpc)
    {
        Bot = bot;
        Rpc = rpc;
    }

    public BotScenario Bot { get; }
    public FakeSolanaRpc Rpc { get; }
    public SolanaSubscriptionStatus Status => Bot.Services.GetRequiredService<SolanaSubscriptionStatus>();
    public static ulong GuildId => ulong.Parse(BotScenario.GuildId);

    /// <summary>A Solana address (base58 of 32 bytes), fixed per name.</summary>
    public static string Address(string name) =>
        SimpleBase.Base58.Bitcoin.Encode(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)));

    public static BigInteger Tokens(decimal amount) => new(amount * 1_000_000m);

    /// <param name="native">Gate on SOL itself (at least 1 SOL) instead of the SPL token <see cref="Mint"/>.</param>
    public static async Task<SolanaRealTimeScenario> StartAsync(bool native = false)
    {
        var rpc = await FakeSolanaRpc.StartAsync($"/v2/{ApiKey}", $"/ws/{ApiKey}");
        var settings = new Dictionary<string, string?>
        {
            ["Security:Signatures"] = "Off",
            ["Verifications:0:Chain"] = "solana",
            ["Verifications:0:MinAmount"] = "1",
            ["Chains:solana:RpcUrl"] = rpc.RpcUrl.ToString(),
            ["Chains:solana:WsUrl"] = rpc.WsUrl.ToString(),
            ["Rechecks:Grace"] = "00:00:00",
        };
        settings[native ? "Verifications:0:TokenStandard" : "Verifications:0:TokenAddress"] = native ? "native" : Mint;
        var bot = await BotScenario.StartAsync(settings, startBot: false);
        bot.Discord.AddChannel(new FakeChannel(LogChannelId, BotScenario.GuildId, "walver-log"));
        bot.Configure = builder =>
        {
            builder.Services.Remove(builder.Services.Single(d => d.ImplementationType == typeof(RecheckWorker)));
            builder.Services.Configure<SolanaSubscriptionTuning>(t =>
            {
                t.ResyncInterval = TimeSpan.FromMilliseconds(100);
                t.ReconnectBaseDelay = TimeSpan.FromMilliseconds(20);
                t.ReconnectMaxDelay = TimeSpan.FromMilliseconds(200);
            });
            builder.Services.Configure<WalverBot.Chains.ChainReadTuning>(t => t.MaxRetries = 0);
        };
        await bot.StartBotAsync();
        await bot.Services.GetRequiredService<CommandStore>().SetLogChannelAsync(GuildId, ulong.Parse(LogChannelId), CancellationToken.None);
        return new SolanaRealTimeScenario(bot, rpc);
    }

    /// <summary>Gives <paramref name="wallet"/> a token account holding <paramref name="tokens"/>, verifies it for the member, and waits for the grant and the subscription.</summary>
    public async Task<string> GrantAsync(string username, string userId, string wallet, decimal tokens)
    {
        var account = Rpc.AddTokenAccount(wallet, Mint, Tokens(tokens), Decimals);
        var response = await Bot.SendAsync(FakeWalverWebhook.For(BotScenario.VerificationId).WithDiscord(username).WithSecret(BotScenario.Secret)
            .WithWallet(wallet).WithChain("solana").WithToken(Mint, 1m, tokens, passed: true) with { Message = $"verify {wallet} {Guid.NewGuid():N}" });
        Assert.Equal(200, response.Status);
        var decision = await WaitForDecisionAsync(userId, d => d.Count >= 1);
        Assert.Equal(Outcomes.Granted, decision.Outcome);
        await WaitForSubscribedAsync(account);
        return account;
    }

    public Task WaitForSubscribedAsync(string account) =>
        Eventually.UntilAsync(() => Rpc.SubscribedAccounts.Contains(account) && Status.Up && Status.Accounts >= 1,
            $"a live accountSubscribe on {account}", observed: () => $"subscribed: {string.Join(", ", Rpc.SubscribedAccounts)}; up: {Status.Up}");

    public async Task<DecisionEntry> WaitForDecisionAsync(string userId, Func<IReadOnlyList<DecisionEntry>, bool> done)
    {
        var decisions = await Eventually.UntilAsync(() => DecisionsAsync(userId), done, $"decisions about {userId}",
            describe: d => "have: " + string.Join(", ", d.Select(x => x.Outcome)));
        return decisions[0];
    }

    /// <summary>Newest first.</summary>
    public Task<IReadOnlyList<DecisionEntry>> DecisionsAsync(string userId) =>
        Bot.Services.GetRequiredService<GrantLedger>().RecentDecisionsAsync(GuildId, ulong.Parse(userId), 100, CancellationToken.None);

    public HashSet<string> RolesOf(string userId) => [.. Bot.Discord.GetMemberRoles(BotScenario.GuildId, userId)];

    public int Deletes(string userId) =>
        Bot.Discord.RequestsTo("DELETE", $"/guilds/{BotScenario.GuildId}/members/{userId}/roles/{BotScenario.HolderRoleId}").Count;

    /// <summary>DELETEs the fake has handled: it records a request on arrival and changes the member's roles after.</summary>
    public int AnsweredDeletes(string userId) =>
        Bot.Discord.RequestsTo("DELETE", $"/guilds/{BotScenario.GuildId}/members/{userId}/roles/{BotScenario.HolderRoleId}").Count(r => r.Status is not null);

    public async ValueTask DisposeAsync()
    {
        await Bot.DisposeAsync();
        await Rpc.DisposeAsync();
    }
}
