using Dapper;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Chains;
using WalverBot.Commands;
using WalverBot.Grants;
using WalverBot.Holdings;
using WalverBot.Storage;
using WalverBot.Testing.Chains;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.FakeWalver;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.Waiting;
using WalverBot.Verifications;

namespace WalverBot.Tests.Holdings;

/// <summary>
/// The real bot (<see cref="BotScenario"/>) with a <see cref="FakeChainReader"/> in place of the chain readers, a
/// token-gated verification with a Whale tier (Holder ≥ 1, Whale ≥ 100), and re-check passes run by the test on a
/// <see cref="FakeTimeProvider"/> (the bot's own re-check worker is left out, so nothing runs behind the test's back).
/// Signatures are off so that any wallet address can verify.
/// </summary>
public sealed class HoldingsScenario : IAsyncDisposable
{
    public const string VerificationId = "wb_hold";
    public const string Token = "0x1111111111111111111111111111111111111111";
    public const string WhaleRoleId = "1300000000000000011";
    public const string LogChannelId = "1500000000000000077";
    public const string AdminId = "1400000000000000009";
    public const string ModeratorRoleId = "1300000000000000020";

    private HoldingsScenario(BotScenario bot, FakeChainReader chain)
    {
        Bot = bot;
        Chain = chain;
    }

    public BotScenario Bot { get; }
    public FakeChainReader Chain { get; }
    public FakeDiscordServer Discord => Bot.Discord;
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);
    public static ulong GuildId => ulong.Parse(BotScenario.GuildId);
    public static ulong HolderRole => ulong.Parse(BotScenario.HolderRoleId);
    public static ulong WhaleRole => ulong.Parse(WhaleRoleId);

    public static string Wallet(int n) => $"0x{n:x40}";

    public static string UserId(int n) => $"14000000000000001{n:00}";

    /// <param name="members">Extra members user1…userN (ids from <see cref="UserId"/>).</param>
    public static async Task<HoldingsScenario> StartAsync(int members = 0, IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?> { ["Security:Signatures"] = "Off" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var bot = await BotScenario.StartAsync(all, startBot: false);
        bot.Discord.AddRole(BotScenario.GuildId, new FakeRole(WhaleRoleId, "Whale", 2, FakeDiscordPermissions.Of(FakeDiscordPermissions.ViewChannel)));
        bot.Discord.AddChannel(new FakeChannel(LogChannelId, BotScenario.GuildId, "walver-log"));
        bot.Discord.AddRole(BotScenario.GuildId, new FakeRole(ModeratorRoleId, "Moderator", 3, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles)));
        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(AdminId, "admin") { Roles = [ModeratorRoleId] });
        for (var i = 1; i <= members; i++)
        {
            bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(UserId(i), $"user{i}"));
        }

        var chain = new FakeChainReader();
        bot.Configure = builder =>
        {
            builder.Services.RemoveAll<IChainReader>();
            builder.Services.AddSingleton<IChainReader>(chain);
            var worker = builder.Services.Single(d => d.ImplementationType == typeof(RecheckWorker));
            builder.Services.Remove(worker);
        };
        await bot.StartBotAsync();
        var scenario = new HoldingsScenario(bot, chain);
        await scenario.Services.GetRequiredService<VerificationStore>().UpsertAsync(new Verification
        {
            Id = VerificationId,
            GuildId = GuildId,
            RoleId = HolderRole,
            SecretHash = SecretHasher.Hash(BotScenario.Secret),
            Chain = "ethereum",
            TokenAddress = Token,
            MinAmount = 1m,
            Tiers = [new RoleTier(100m, WhaleRole)],
            Source = "command",
        });
        await scenario.Services.GetRequiredService<CommandStore>().SetLogChannelAsync(GuildId, ulong.Parse(LogChannelId), CancellationToken.None);
        return scenario;
    }

    public IServiceProvider Services => Bot.Services;

    /// <summary>Sends a verification of <paramref name="wallet"/> for <paramref name="username"/> whose payload claims <paramref name="claimed"/>.</summary>
    public Task<FakeWebhookResponse> VerifyAsync(string username, string wallet, decimal claimed = 1m) =>
        Bot.SendAsync(FakeWalverWebhook.For(VerificationId).WithDiscord(username).WithSecret(BotScenario.Secret).WithWallet(wallet).WithChain("ethereum")
            .WithToken(Token, 1m, claimed, passed: true) with { Message = $"verify {wallet} {Guid.NewGuid():N}" });

    /// <summary>Verifies and waits for the decision about that member.</summary>
    public async Task<DecisionEntry> GrantAsync(string username, string userId, string wallet, decimal onChain, decimal? claimed = null)
    {
        Chain.SetAmount(wallet, onChain);
        var before = (await DecisionsAsync(userId)).Count;
        var response = await VerifyAsync(username, wallet, claimed ?? onChain);
        Assert.Equal(200, response.Status);
        return await WaitForDecisionAsync(userId, before + 1);
    }

    public async Task<DecisionEntry> WaitForDecisionAsync(string userId, int count, string? outcome = null)
    {
        var decisions = await Eventually.UntilAsync(() => DecisionsAsync(userId),
            d => d.Count >= count && (outcome is null || d[0].Outcome == outcome), $"decision #{count} ({outcome}) about {userId}",
            describe: d => "have: " + string.Join(", ", d.Select(x => x.Outcome)));
        return decisions[0];
    }

    /// <summary>The decisions about a member, newest first.</summary>
    public Task<IReadOnlyList<DecisionEntry>> DecisionsAsync(string userId) =>
        Services.GetRequiredService<GrantLedger>().RecentDecisionsAsync(GuildId, ulong.Parse(userId), 100, CancellationToken.None);

    public async Task<IReadOnlyList<DecisionEntry>> AllDecisionsAsync() =>
        await Services.GetRequiredService<GrantLedger>().RecentDecisionsAsync(GuildId, null, 1000, CancellationToken.None);

    /// <summary>A re-check engine as the bot builds it, on the test's clock.</summary>
    public (RecheckEngine Engine, IServiceScope Scope) Engine()
    {
        var scope = Services.CreateScope();
        var store = ActivatorUtilities.CreateInstance<HoldingsStore>(scope.ServiceProvider, Time);
        return (ActivatorUtilities.CreateInstance<RecheckEngine>(scope.ServiceProvider, store, Time), scope);
    }

    public async Task<PassResult> PassAsync(PassOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (engine, scope) = Engine();
        using (scope)
        {
            var verification = (await Services.GetRequiredService<VerificationStore>().FindAsync(VerificationId))!;
            return await engine.RunAsync(verification, options ?? new PassOptions(Manual: true), null, cancellationToken);
        }
    }

    /// <summary>Runs a slash command as the admin through the gateway and waits until <paramref name="done"/> holds for Discord.</summary>
    /// <param name="timeout">Only reached when the test fails; a command over thousands of wallets needs more than the default 20 s at load.</param>
    public async Task<FakeInteraction> CommandAsync(System.Text.Json.Nodes.JsonObject data, Func<FakeDiscordServer, FakeInteraction, bool> done, TimeSpan? timeout = null)
    {
        await Bot.Gateway.WaitForReadyAsync();
        var interaction = Discord.CreateCommandInteraction(BotScenario.GuildId, LogChannelId, AdminId, data);
        await Bot.Gateway.DispatchAsync("INTERACTION_CREATE", interaction.Payload);
        try
        {
            await Discord.WaitUntilAsync(d => done(d, interaction), timeout ?? TimeSpan.FromSeconds(20), "the command's answer");
        }
        catch (TimeoutException ex)
        {
            // Say what the bot did send for it (a 10062 past Discord's 3 s shows) and what it logged last.
            var calls = Discord.Requests.Where(r => r.Path.Contains(interaction.Id, StringComparison.Ordinal) || r.Path.Contains(interaction.Token, StringComparison.Ordinal))
                .Select(r => r.ToString().Replace(interaction.Token, "<token>", StringComparison.Ordinal));
            throw new TimeoutException($"{ex.Message} Requests for it: [{string.Join("; ", calls)}]; last log lines:\n{string.Join("\n", Bot.Logs.Lines.TakeLast(15))}", ex);
        }

        return interaction;
    }

    public HashSet<string> RolesOf(string userId) => [.. Discord.GetMemberRoles(BotScenario.GuildId, userId)];

    public int Deletes(string userId, string roleId) =>
        Discord.RequestsTo("DELETE", $"/guilds/{BotScenario.GuildId}/members/{userId}/roles/{roleId}").Count;

    /// <summary>Rows of a table as text, to show that something changed nothing.</summary>
    public async Task<string> DumpAsync(string table)
    {
        await using var connection = await Services.GetRequiredService<Database>().OpenAsync();
        var rows = await connection.QueryAsync(new CommandDefinition($"SELECT * FROM {table} ORDER BY 1, 2"));
        return string.Join("\n", rows.Select(r => string.Join("|", ((IDictionary<string, object?>)r).Select(p => $"{p.Key}={p.Value}"))));
    }

    public ValueTask DisposeAsync() => Bot.DisposeAsync();
}
