using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.FakeWalver;

namespace WalverBot.Tests.Hosting;

/// <summary>
/// The real bot on a loopback port, against a fake Discord (REST + gateway) with one guild, a
/// "Holder" role below the bot's role, and a few members. Each scenario has its own database file.
/// Started with a <see cref="FakeTimeProvider"/>, the bot and the fakes read time from it alone, so a test
/// advances through retries, expiries and outages instead of waiting them out.
/// </summary>
public sealed class BotScenario : IAsyncDisposable
{
    public const string GuildId = "1200000000000000001";
    public const string HolderRoleId = "1300000000000000010";
    public const string BotRoleId = "1300000000000000050";
    public const string AliceId = "1400000000000000001";
    public const string BobId = "1400000000000000002";
    public const string VerificationId = "wb_test_1";
    public const string Secret = "s3cret-for-tests-0123456789abcdef";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "walverbot-tests", Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string?> _settings;
    private WebApplication? _app;
    private bool _gatewayStopped;

    private BotScenario(FakeDiscordServer discord, FakeGatewayServer gateway, Dictionary<string, string?> settings, FakeTimeProvider? time)
    {
        Discord = discord;
        Gateway = gateway;
        _settings = settings;
        Time = time;
    }

    public FakeDiscordServer Discord { get; }
    public FakeGatewayServer Gateway { get; }

    /// <summary>The clock of the bot and the fakes when the scenario was started with one; null when they use real time.</summary>
    public FakeTimeProvider? Time { get; }
    public CapturedLogs Logs { get; private set; } = new();
    public FakeWalverWebhookSender Sender { get; } = new();
    public string BaseUrl { get; private set; } = "";
    public string WebhookUrl => $"{BaseUrl}/webhooks/walver";
    public string DatabasePath => Path.Combine(_folder, "walverbot.db");
    public IServiceProvider Services => _app!.Services;

    /// <summary>Applied to the host builder at the next <see cref="StartBotAsync"/>, e.g. to replace a service with a fault.</summary>
    public Action<WebApplicationBuilder>? Configure { get; set; }

    /// <summary>Settings applied at the next <see cref="StartBotAsync"/> (change them between a stop and a start).</summary>
    public IDictionary<string, string?> Settings => _settings;

    /// <summary>Starts the fakes and the bot with one declared verification (<see cref="VerificationId"/> → Holder).</summary>
    public static async Task<BotScenario> StartAsync(IDictionary<string, string?>? settings = null, bool startBot = true, FakeTimeProvider? time = null)
    {
        var discord = await FakeDiscordServer.StartAsync(time is null ? null : new FakeDiscordOptions { TimeProvider = time });
        // Heartbeats are not what these tests are about (the gateway tests cover them with 1 s): at 1 s a loaded machine
        // let an ACK lag a whole interval, the bot resumed as from a zombie connection, and an interaction dispatched
        // meanwhile was answered after Discord's 3 s (10062).
        var gateway = await FakeGatewayServer.StartAsync(discord, new FakeGatewayOptions { HeartbeatIntervalMs = 5000 });
        discord.AddGuild(GuildId, "Test Guild");
        discord.AddRole(GuildId, new FakeRole(HolderRoleId, "Holder", 1, FakeDiscordPermissions.Of(FakeDiscordPermissions.ViewChannel)));
        discord.AddRole(GuildId, new FakeRole(BotRoleId, "WalverBot", 5, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles), Managed: true));
        discord.SetBotRoles(GuildId, BotRoleId);
        discord.AddMember(GuildId, new FakeMember(AliceId, "alice") { GlobalName = "Alice" });
        discord.AddMember(GuildId, new FakeMember(BobId, "bob") { Nick = "alice" });

        var all = new Dictionary<string, string?>
        {
            ["Verifications:0:Id"] = VerificationId,
            ["Verifications:0:GuildId"] = GuildId,
            ["Verifications:0:RoleId"] = HolderRoleId,
            ["Verifications:0:Secret"] = Secret,
            ["Verifications:0:Chain"] = "ethereum",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var scenario = new BotScenario(discord, gateway, all, time);
        if (startBot)
        {
            await scenario.StartBotAsync();
        }

        return scenario;
    }

    /// <summary>Starts (or restarts) the bot process on the same database.</summary>
    public async Task StartBotAsync()
    {
        Logs = new CapturedLogs();
        var args = new Dictionary<string, string?>
        {
            ["Discord:Token"] = Discord.Token,
            ["Discord:ApiBaseUrl"] = Discord.ApiBaseUrl,
            ["ConnectionStrings:WalverBot"] = $"Data Source={DatabasePath}",
            ["Urls"] = "http://127.0.0.1:0",
            ["Webhook:PublicBaseUrl"] = "https://bot.example.test",
        };
        foreach (var (key, value) in _settings)
        {
            args[key] = value;
        }

        var logs = Logs;
        var time = Time;
        _app = Program.BuildApp(
            [.. args.Select(pair => $"--{pair.Key}={pair.Value}")],
            builder =>
            {
                builder.Logging.AddProvider(logs);
                if (time is not null)
                {
                    builder.Services.RemoveAll<TimeProvider>();
                    builder.Services.AddSingleton<TimeProvider>(time);
                }

                Configure?.Invoke(builder);
            });
        await Program.PrepareAsync(_app);
        await _app.StartAsync();
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        BaseUrl = addresses.Addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal);
    }

    /// <summary>Stops the bot as a crash would leave it: whatever was in flight is abandoned.</summary>
    public async Task StopBotAsync()
    {
        if (_app is null)
        {
            return;
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    public FakeWalverWebhook Webhook(string? discord = "alice") =>
        FakeWalverWebhook.For(VerificationId).WithDiscord(discord).WithSecret(Secret).Signed();

    public Task<FakeWebhookResponse> SendAsync(FakeWalverWebhook webhook) => Sender.SendAsync(WebhookUrl, webhook);

    /// <summary>Waits until Discord has seen <paramref name="count"/> role PUTs for the member.</summary>
    /// <remarks>
    /// Waits for answered PUTs: the fake records a request when it arrives, before it changes the member's roles, so a
    /// wait for arrivals could return before <c>GetMemberRoles</c> shows the role.
    /// </remarks>
    public Task WaitForRolePutsAsync(string userId, int count = 1, string roleId = HolderRoleId) =>
        Discord.WaitUntilAsync(
            d => d.RequestsTo("PUT", $"/guilds/{GuildId}/members/{userId}/roles/{roleId}").Count(r => r.Status is not null) >= count,
            TimeSpan.FromSeconds(15), $"{count} answered role PUT(s) for {userId}");

    /// <summary>Waits until the bot's gateway view of the guild has the role at the position.</summary>
    public Task WaitForRoleCacheAsync(string roleId, int position)
    {
        var cache = Services.GetRequiredService<WalverBot.Discord.Gateway.IGuildCache>();
        return Eventually.UntilAsync(
            () => cache.GetGuild(ulong.Parse(GuildId))?.Roles.GetValueOrDefault(ulong.Parse(roleId))?.Position, p => p == position,
            $"role {roleId} at position {position} in the bot's guild view", describe: p => $"position {p?.ToString() ?? "(no such role)"}");
    }

    /// <summary>Waits until the bot's gateway session is READY and the guild has arrived.</summary>
    public Task WaitForGatewayAsync()
    {
        var cache = Services.GetRequiredService<WalverBot.Discord.Gateway.IGuildCache>();
        return Eventually.UntilAsync(() => cache.GetGuild(ulong.Parse(GuildId))?.BotMember is not null, "the guild over the bot's gateway session");
    }

    /// <summary>
    /// On the scenario's test clock, moves past what stands between an ended session and the next IDENTIFY instead of
    /// waiting it out: Discord's "random amount of time between 1 and 5 seconds" after op 9 d:false
    /// (gateway#invalid-session) and the bot's IDENTIFY spacing (Discord's 5 s per bucket,
    /// #session-start-limit-object). The shard starts its reconnect wait before it lets the socket go, so once the fake
    /// has seen connection <paramref name="endedConnection"/> end, one step of the spacing (6 s) covers both.
    /// </summary>
    public async Task PassTheWaitsBeforeTheNextIdentifyAsync(int endedConnection)
    {
        var clock = Time ?? throw new InvalidOperationException("the scenario runs on real time: start it with a FakeTimeProvider");
        await Gateway.WaitForConnectionClosedAsync(endedConnection, TimeSpan.FromSeconds(30));
        clock.Advance(TimeSpan.FromSeconds(6)); // the shard's IdentifyGate.BucketSpacing
    }

    /// <summary>Waits until the bot's member directory holds every member of the guild (Discord:MemberDirectory on).</summary>
    public Task WaitForMemberDirectoryAsync()
    {
        var directory = Services.GetRequiredService<WalverBot.Discord.Gateway.IMemberDirectory>();
        return Eventually.UntilAsync(() => directory.IsComplete(ulong.Parse(GuildId)), "the guild's member directory to be complete");
    }

    /// <summary>Takes Discord's gateway away for good: every connection attempt fails from now on.</summary>
    public async Task StopGatewayAsync()
    {
        if (!_gatewayStopped)
        {
            _gatewayStopped = true;
            await Gateway.DisposeAsync();
        }
    }

    public int RolePuts(string userId, string roleId = HolderRoleId) =>
        Discord.RequestsTo("PUT", $"/guilds/{GuildId}/members/{userId}/roles/{roleId}").Count;

    /// <summary>Asserts exactly one role PUT; a failure lists each PUT with its answer and arrival (a retry, or a second grant?).</summary>
    public void AssertOneRolePut(string userId, string roleId = HolderRoleId)
    {
        var puts = Discord.RequestsTo("PUT", $"/guilds/{GuildId}/members/{userId}/roles/{roleId}");
        Assert.True(puts.Count == 1, $"expected one role PUT for {userId}, saw {puts.Count}: {string.Join("; ", puts)}");
    }

    public async ValueTask DisposeAsync()
    {
        await StopBotAsync();
        Sender.Dispose();
        await StopGatewayAsync();
        await Discord.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
