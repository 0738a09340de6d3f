using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using WalverBot.Bench;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.FakeWalver;

// WalverBot benchmarks: the real bot process (Release) against the fake Discord on loopback.
// Usage: dotnet run -c Release --project bench/WalverBot.Bench -- [all|accept|wrk|e2e|ratelimit|memory|startup|recheck|surge|directory|directory-micro|follower|stores] [--seconds N] [--connections N]
// stores: [--seconds N] (per round and setup, default 10) [--rounds N] (default 3)
// surge: [--surge N] [--role-limit N] [--global-limit N] [--post-within S] [--burst-seconds S] [--guilds N] [--per-guild N] [--in-process-sender]
// paced-sender: the surge's paced sender as a process of its own (the surge bench starts it; JSON report on stdout).
if (args.FirstOrDefault() == "paced-sender") return await PacedSender.MainAsync(args);
var which = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "all";
var seconds = Option("--seconds", 10);
var connections = Option("--connections", 16);
var pace = Option("--pace-ms", 50);
var inProcessSender = args.Contains("--in-process-sender");
var report = new StringBuilder();
var folder = Directory.CreateTempSubdirectory("walverbot-bench").FullName;
var inv = CultureInfo.InvariantCulture;

Line($"# WalverBot bench {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC — {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
try
{
    if (which is "all" or "startup") await StartupAsync();
    if (which is "all" or "memory") await MemoryAsync();
    if (which is "all" or "accept") await AcceptanceAsync();
    if (which is "all" or "wrk") await WrkAcceptanceAsync();
    if (which is "all" or "e2e") await EndToEndAsync();
    if (which is "all" or "ratelimit") await RateLimitAsync();
    // Not in "all": minutes long. One guild, then many guilds sharing the global limit.
    if (which is "surge")
    {
        await SurgeBench.RunAsync("one guild", 1, Option("--surge", 10_000), Option("--role-limit", 100), Option("--global-limit", 250),
            TimeSpan.FromSeconds(Option("--post-within", 60)), Option("--burst-seconds", 10), connections, inProcessSender, folder, Line);
        // --guilds 0 skips it (a shorter run on a shared machine).
        if (Option("--guilds", 20) > 0)
            await SurgeBench.RunAsync("many guilds", Option("--guilds", 20), Option("--per-guild", 50), Option("--role-limit", 100), 50,
                TimeSpan.FromSeconds(Option("--post-within", 60)), 0, connections, inProcessSender, folder, Line);
    }
    // Not in "all": it needs anvil (npm ci --prefix tools/chain) and takes minutes.
    // Not in "all": seeding a million members into the fake takes a while and gigabytes of the bench's own memory.
    if (which is "directory" or "directory-micro") DirectoryMicro.Run(Option("--members", 1_000_000), Line);
    if (which is "directory") await DirectoryAsync(Option("--members", 1_000_000));
    if (which is "recheck") await RecheckBench.RunAsync(Option("--wallets", 100_000), Option("--runs", 3), Option("--loaded-runs", 0), folder, Line);
    // Not in "all": it starts its own PostgreSQL cluster (Debian's postgresql package) and four bot processes.
    if (which is "stores") await StoresBench.RunAsync(seconds, connections, Option("--rounds", 3), folder, Line);
    if (which is "follower") await FollowerBench.RunAsync(Option("--wallets", 10_000), Option("--transfers", 20), Option("--poll-ms", 2000), folder, Line);
}
finally
{
    SqliteConnection.ClearAllPools();
    Directory.Delete(folder, recursive: true);
}

return 0;

async Task StartupAsync()
{
    // Start-up to the first /healthz 200, on a fresh database each time (migrations included). Median of 5.
    await using var fakes = await Fakes.StartAsync(100);
    var times = new List<double>();
    for (var run = 0; run < 5; run++)
    {
        var (bot, elapsed) = await BotUnderTest.StartAsync(fakes.Discord, Database($"startup{run}"));
        times.Add(elapsed.TotalMilliseconds);
        await bot.DisposeAsync();
    }

    Line($"startup: process start → /healthz 200: median {Median(times):0} ms (runs: {string.Join(", ", times.Select(t => t.ToString("0", inv)))}) — target < 2000 ms");
}

async Task MemoryAsync()
{
    await using var fakes = await Fakes.StartAsync(100);
    foreach (var (label, gc) in new[] { ("as built", (string?)null), ("DOTNET_gcServer=1", "1"), ("DOTNET_gcServer=0", "0") })
    {
        var extra = gc is null ? null : new Dictionary<string, string> { ["DOTNET_gcServer"] = gc };
        var (bot, _) = await BotUnderTest.StartAsync(fakes.Discord, Database($"memory{gc}"), extra);
        await using (bot)
        {
            await Task.Delay(TimeSpan.FromSeconds(10)); // gateway READY, first heartbeats, JIT settled
            var idle = bot.RssBytes();
            using var http = Load.Client(8);
            await Load.RunAsync("warm", http, 8, TimeSpan.FromSeconds(5), n => Webhook(bot, 1_000_000 + n), s => s == HttpStatusCode.OK);
            await Task.Delay(TimeSpan.FromSeconds(5));
            Line($"memory ({label}): idle RSS {idle / 1048576.0:0.0} MB; after 5 s of webhook load and 5 s rest {bot.RssBytes() / 1048576.0:0.0} MB — target idle < 120 MB");
        }
    }
}

async Task DirectoryAsync(int members)
{
    // The member directory of one guild with `members` members, filled over the fake gateway (op 8, 1000 per chunk):
    // process start → the directory complete (from /metrics), and RSS with the directory on and off.
    var seeding = Stopwatch.StartNew();
    await using var fakes = await Fakes.StartAsync(members);
    Line($"directory: fake guild seeded with {members:N0} members in {seeding.Elapsed.TotalSeconds:0.0} s");
    var rss = new Dictionary<bool, double>();
    foreach (var on in new[] { true, false })
    {
        var extra = new Dictionary<string, string> { ["Discord__MemberDirectory"] = on ? "true" : "false" };
        var clock = Stopwatch.StartNew();
        var (bot, _) = await BotUnderTest.StartAsync(fakes.Discord, Database($"directory{on}"), extra);
        await using (bot)
        {
            using var http = new HttpClient();
            var complete = TimeSpan.Zero;
            while (on)
            {
                var metrics = await http.GetStringAsync($"{bot.BaseUrl}/metrics");
                if (metrics.Split('\n').Any(l => l.StartsWith("walverbot_discord_member_directory_guilds{", StringComparison.Ordinal)
                    && l.Contains("state=\"complete\"", StringComparison.Ordinal)
                    && double.TryParse(l[(l.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture, out var value) && value >= 1))
                {
                    complete = clock.Elapsed;
                    break;
                }

                if (clock.Elapsed > TimeSpan.FromMinutes(15))
                {
                    throw new TimeoutException("the member directory did not complete within 15 minutes");
                }

                await Task.Delay(250);
            }

            var atComplete = bot.RssBytes();
            await Task.Delay(TimeSpan.FromSeconds(on ? 10 : 15)); // the chunks' garbage collected, the gateway idle
            rss[on] = bot.RssBytes();
            Line(on
                ? $"directory on: process start → directory complete {complete.TotalSeconds:0.0} s; RSS at completion {atComplete / 1048576.0:0.0} MB, 10 s later {rss[on] / 1048576.0:0.0} MB — target < 250 MB"
                : $"directory off: RSS 15 s after start {rss[on] / 1048576.0:0.0} MB");
        }
    }

    Line($"directory: {(rss[true] - rss[false]) / members:0} bytes per member (RSS on − off, ÷ {members:N0})");
}

async Task AcceptanceAsync()
{
    // Webhook acceptance vs GET /healthz of the same process, same run, same connections. Each webhook is a new
    // delivery (its own wallet and signature), so each 200 is a committed INSERT; the worker drains them meanwhile.
    await using var fakes = await Fakes.StartAsync(1000);
    fakes.Discord.SetRateLimit(FakeDiscordBuckets.MemberRoles, 100_000, TimeSpan.FromSeconds(1));
    fakes.Discord.SetRateLimit(FakeDiscordBuckets.MemberSearch, 100_000, TimeSpan.FromSeconds(1));
    // Discord's global 50 requests/s stays: the worker drains the inbox at the pace real Discord allows.
    var (bot, _) = await BotUnderTest.StartAsync(fakes.Discord, Database("accept"));
    await using (bot)
    {
        using var http = Load.Client(connections);
        var next = 0;
        HttpRequestMessage Health(int _) => new(HttpMethod.Get, $"{bot.BaseUrl}/healthz");
        HttpRequestMessage Hook(int _) => Webhook(bot, Interlocked.Increment(ref next));
        // Warm up both paths (JIT, connection pool, SQLite page cache).
        await Load.RunAsync("warm", http, connections, TimeSpan.FromSeconds(3), Health, s => s == HttpStatusCode.OK);
        await Load.RunAsync("warm", http, connections, TimeSpan.FromSeconds(3), Hook, s => s == HttpStatusCode.OK);
        var rows = new List<(Load.Result Health, Load.Result Hook)>();
        for (var round = 0; round < 3; round++)
        {
            var health = await Load.RunAsync("GET /healthz", http, connections, TimeSpan.FromSeconds(seconds), Health, s => s == HttpStatusCode.OK);
            var hook = await Load.RunAsync("POST /webhooks/walver", http, connections, TimeSpan.FromSeconds(seconds), Hook, s => s == HttpStatusCode.OK);
            rows.Add((health, hook));
            Line($"accept round {round + 1}: healthz {health.PerSecond:0} req/s p50 {health.Percentile(50):0.00} ms p99 {health.Percentile(99):0.00} ms ({health.Failures} failed) | " +
                 $"webhook {hook.PerSecond:0} req/s p50 {hook.Percentile(50):0.00} ms p99 {hook.Percentile(99):0.00} ms ({hook.Failures} failed) | ratio {hook.PerSecond / health.PerSecond:0.00}");
        }

        var stored = await CountAsync(Database("accept"), "SELECT COUNT(*) FROM webhook_events");
        var ratio = Median(rows.Select(r => r.Hook.PerSecond / r.Health.PerSecond));
        Line($"accept: {connections} connections, {seconds} s per run, 3 rounds — median webhook/healthz throughput ratio {ratio:0.00} (target ≥ 0.5); " +
             $"median webhook p99 {Median(rows.Select(r => r.Hook.Percentile(99))):0.00} ms vs healthz p99 {Median(rows.Select(r => r.Health.Percentile(99))):0.00} ms; " +
             $"webhooks answered 200: {rows.Sum(r => r.Hook.Requests)} (+ warm-up) — rows in the inbox: {stored}");
    }
}

async Task WrkAcceptanceAsync()
{
    // The same comparison with wrk (C, event loop) as the load generator instead of HttpClient in this process, so
    // less of the two cores goes to generating load. Each webhook is still a new delivery (bench/wrk/webhook.lua).
    var script = Path.GetFullPath(Path.Combine("bench", "wrk", "webhook.lua"));
    if (!File.Exists(script) || !Wrk.IsInstalled())
    {
        Line("wrk: skipped — needs wrk on PATH (Debian: apt-get install wrk) and the bench run from the repository root");
        return;
    }

    await using var fakes = await Fakes.StartAsync(1000);
    fakes.Discord.SetRateLimit(FakeDiscordBuckets.MemberRoles, 100_000, TimeSpan.FromSeconds(1));
    fakes.Discord.SetRateLimit(FakeDiscordBuckets.MemberSearch, 100_000, TimeSpan.FromSeconds(1));
    var (bot, _) = await BotUnderTest.StartAsync(fakes.Discord, Database("wrk"));
    await using (bot)
    {
        var template = Path.Combine(folder, "webhook-template.json");
        await File.WriteAllTextAsync(template, FakeWalverWebhook.For(BotUnderTest.VerificationId)
            .WithDiscord(BotUnderTest.Username(0))
            .WithSecret(BotUnderTest.Secret)
            .WithChain("ethereum")
            .WithWallet("__WALLET__")
            .WithSignature("__SIGNATURE__")
            .ToString());
        var health = $"{bot.BaseUrl}/healthz";
        var hook = $"{bot.BaseUrl}/webhooks/walver";
        await Wrk.RunAsync(health, connections, 3);
        await Wrk.RunAsync(hook, connections, 3, script, template);
        var rows = new List<(Wrk.Result Health, Wrk.Result Hook)>();
        for (var round = 0; round < 3; round++)
        {
            var h = await Wrk.RunAsync(health, connections, seconds);
            var w = await Wrk.RunAsync(hook, connections, seconds, script, template);
            rows.Add((h, w));
            Line($"wrk round {round + 1}: healthz {h.PerSecond:0} req/s p50 {h.P50Ms:0.00} ms p99 {h.P99Ms:0.00} ms ({h.NotOk} not 200) | " +
                 $"webhook {w.PerSecond:0} req/s p50 {w.P50Ms:0.00} ms p99 {w.P99Ms:0.00} ms ({w.NotOk} not 200) | ratio {w.PerSecond / h.PerSecond:0.00}");
        }

        // Walver's retries: the first measured run's deliveries once more (shorter, so every request is a repeat).
        var before = await CountAsync(Database("wrk"), "SELECT COUNT(*) FROM webhook_events");
        var repeats = await Wrk.RunAsync(hook, connections, Math.Max(1, seconds / 4), script, template, run: rows[0].Hook.Run);
        var added = await CountAsync(Database("wrk"), "SELECT COUNT(*) FROM webhook_events") - before;
        Line($"wrk repeats: {repeats.PerSecond:0} req/s p50 {repeats.P50Ms:0.00} ms p99 {repeats.P99Ms:0.00} ms ({repeats.NotOk} not 200); " +
             $"{repeats.Requests} requests added {added} inbox rows (0: all were repeats)");

        var stored = await CountAsync(Database("wrk"), "SELECT COUNT(*) FROM webhook_events");
        Line($"wrk: {connections} connections, 2 threads, {seconds} s per run, 3 rounds — median webhook/healthz throughput ratio " +
             $"{Median(rows.Select(r => r.Hook.PerSecond / r.Health.PerSecond)):0.00} (target ≥ 0.5); median webhook p99 {Median(rows.Select(r => r.Hook.P99Ms)):0.00} ms " +
             $"vs healthz p99 {Median(rows.Select(r => r.Health.P99Ms)):0.00} ms; webhook requests {rows.Sum(r => r.Hook.Requests)} (+ warm-up), rows in the inbox: {stored}");
    }
}

async Task EndToEndAsync()
{
    // One webhook at a time (Discord answers at once): from sending the webhook to the fake Discord receiving the role PUT.
    const int Count = 300;
    await using var fakes = await Fakes.StartAsync(Count);
    fakes.Discord.SetRateLimit(FakeDiscordBuckets.MemberRoles, 100_000, TimeSpan.FromSeconds(1));
    fakes.Discord.SetRateLimit(FakeDiscordBuckets.MemberSearch, 100_000, TimeSpan.FromSeconds(1));
    var (bot, _) = await BotUnderTest.StartAsync(fakes.Discord, Database("e2e"));
    await using (bot)
    {
        using var http = Load.Client(1);
        var latencies = new List<double>();
        for (var i = 0; i < Count; i++)
        {
            var sent = DateTimeOffset.UtcNow;
            using var response = await http.SendAsync(Webhook(bot, i));
            var path = $"/guilds/{BotUnderTest.GuildId}/members/{BotUnderTest.UserId(i)}/roles/{BotUnderTest.RoleId}";
            var put = await fakes.Discord.WaitForRequestAsync("PUT", path, TimeSpan.FromSeconds(10));
            if (i >= 20) // the first ones warm up JIT and connections
            {
                latencies.Add((put.Timestamp - sent).TotalMilliseconds);
            }

            // Paced below Discord's global 50 requests/s (a grant is a member search and a PUT), which the client honours by waiting.
            await Task.Delay(pace);
        }

        var sorted = latencies.Order().ToArray();
        Line($"e2e: webhook sent → role PUT received by the fake, {sorted.Length} webhooks one at a time, {pace} ms apart: p50 {P(sorted, 50):0.0} ms, p90 {P(sorted, 90):0.0} ms, p99 {P(sorted, 99):0.0} ms, max {sorted[^1]:0.0} ms — target p50 < 50 ms");
    }
}

async Task RateLimitAsync()
{
    // The fake enforces 5 role PUTs per 1 s window (Discord's headers announce it); 60 webhooks arrive at once.
    const int Count = 60, Limit = 5;
    var window = TimeSpan.FromSeconds(1);
    await using var fakes = await Fakes.StartAsync(Count);
    fakes.Discord.SetRateLimit(FakeDiscordBuckets.MemberRoles, Limit, window);
    fakes.Discord.SetRateLimit(FakeDiscordBuckets.MemberSearch, 100_000, TimeSpan.FromSeconds(1));
    var (bot, _) = await BotUnderTest.StartAsync(fakes.Discord, Database("ratelimit"));
    await using (bot)
    {
        using var http = Load.Client(8);
        await Parallel.ForEachAsync(Enumerable.Range(0, Count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            using var response = await http.SendAsync(Webhook(bot, i));
        });
        await fakes.Discord.WaitUntilAsync(d => d.RoleChanges.Count(c => c.Method == "PUT") >= Count, TimeSpan.FromSeconds(120), "all grants");
        var puts = fakes.Discord.RoleChanges.Where(c => c.Method == "PUT").Select(c => c.At).Order().ToArray();
        var elapsed = (puts[^1] - puts[0]).TotalSeconds;
        // The limit allows Limit PUTs per window: the last of Count PUTs can come at the earliest after (ceil(Count/Limit) - 1) windows.
        var ideal = (Math.Ceiling(Count / (double)Limit) - 1) * window.TotalSeconds;
        var stats = fakes.Discord.StatsFor(FakeDiscordBuckets.MemberRoles);
        var windows = Math.Max(1, Math.Ceiling(elapsed / window.TotalSeconds));
        Line($"ratelimit: {Count} grants under {Limit} PUT/{window.TotalSeconds:0} s: first → last PUT {elapsed:0.00} s (ideal {ideal:0.00} s) → {(Count - 1) / elapsed:0.00} grants/s, " +
             $"share of the limit {ideal / elapsed:P1} (target ≥ 95 %); 429s on the bucket: {stats.TooManyRequests} over {windows:0} windows ({stats.TooManyRequests / windows:0.00} per window, target ≤ 1)");
    }
}

HttpRequestMessage Webhook(BotUnderTest bot, int n)
{
    var body = FakeWalverWebhook.For(BotUnderTest.VerificationId)
        .WithDiscord(BotUnderTest.Username(n % Fakes.Members))
        .WithSecret(BotUnderTest.Secret)
        .WithChain("ethereum")
        .WithWallet($"0x{n:x40}")
        .WithSignature($"0x{n:x130}")
        .ToString();
    return new HttpRequestMessage(HttpMethod.Post, $"{bot.BaseUrl}/webhooks/walver") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
}

string Database(string name) => Path.Combine(folder, $"{name}.db");

static async Task<long> CountAsync(string path, string sql)
{
    await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
    await connection.OpenAsync();
    await using var command = connection.CreateCommand();
    command.CommandText = sql;
    return (long)(await command.ExecuteScalarAsync())!;
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static double P(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

void Line(string text)
{
    Console.WriteLine(text);
    report.AppendLine(text);
}

/// <summary>The fake Discord (REST + gateway) with one guild and <c>members</c> members.</summary>
sealed class Fakes : IAsyncDisposable
{
    public static int Members { get; private set; } = 1000;

    private Fakes(FakeDiscordServer discord, FakeGatewayServer gateway)
    {
        Discord = discord;
        Gateway = gateway;
    }

    public FakeDiscordServer Discord { get; }

    public FakeGatewayServer Gateway { get; }

    public static async Task<Fakes> StartAsync(int members)
    {
        Members = members;
        var discord = await FakeDiscordServer.StartAsync();
        var gateway = await FakeGatewayServer.StartAsync(discord, new FakeGatewayOptions { HeartbeatIntervalMs = 41_250 });
        BotUnderTest.SeedGuild(discord, members);
        return new Fakes(discord, gateway);
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Discord.DisposeAsync();
    }
}
