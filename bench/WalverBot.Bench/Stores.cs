using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.FakeWalver;
using WalverBot.Testing.Postgres;

namespace WalverBot.Bench;

/// <summary>
/// Durable webhook acceptance of one bot on SQLite, one on PostgreSQL, and two on one PostgreSQL database (the load split
/// evenly between their listeners), same machine, same run, same closed-loop load. Every request is a new delivery, so
/// each counted 200 {"status":"accepted"} is a committed INSERT (SQLite synchronous=FULL; PostgreSQL fsync and
/// synchronous_commit on, its defaults). Rounds interleave the three setups, in a rotating order, so a change in the
/// machine's load during the run falls on all three alike.
/// </summary>
public static class StoresBench
{
    private const int Members = 1000;

    /// <summary>The shard of the bench guild with ShardCount 2: (guild_id >> 22) % 2 (Discord, topics/gateway#sharding).</summary>
    private static readonly int GuildShard = (int)((ulong.Parse(BotUnderTest.GuildId, CultureInfo.InvariantCulture) >> 22) % 2);
    private static int _next;

    private sealed record Setup(string Name, bool OnPostgres, IReadOnlyList<BotUnderTest> Bots, Func<Task<long>> CountRows)
    {
        public List<Load.Result> Rounds { get; } = [];
        public long Answered { get; set; }
        public double BotCpu { get; set; }
        public double PostgresCpu { get; set; }
        public double BenchCpu { get; set; }
    }

    public static async Task RunAsync(int seconds, int connections, int rounds, string folder, Action<string> line)
    {
        if (ThrowawayPostgres.Unavailable() is { } reason)
        {
            line($"stores: skipped — PostgreSQL: {reason}");
            return;
        }

        line($"stores: load average at start {File.ReadAllText("/proc/loadavg").Trim()}");
        var postgres = await ThrowawayPostgres.StartAsync(durable: true, maxConnections: 300);
        FakeDiscordServer? discord = null;
        FakeGatewayServer? gateway = null;
        var bots = new List<BotUnderTest>();
        try
        {
            discord = await FakeDiscordServer.StartAsync();
            gateway = await FakeGatewayServer.StartAsync(discord, new FakeGatewayOptions { HeartbeatIntervalMs = 41_250 });
            discord.SetRateLimit(FakeDiscordBuckets.MemberRoles, 100_000, TimeSpan.FromSeconds(1));
            discord.SetRateLimit(FakeDiscordBuckets.MemberSearch, 100_000, TimeSpan.FromSeconds(1));
            BotUnderTest.SeedGuild(discord, Members);
            line($"stores: {await postgres.VersionAsync()}; fsync on, synchronous_commit on (defaults); SQLite WAL, synchronous=FULL; both in {Path.GetTempPath()}");

            // Four processes on one bot token: 12 requests/s each keeps them under Discord's global 50/s together
            // (README, Sharding), so the workers drain the inboxes in the background at the pace Discord allows.
            async Task<BotUnderTest> StartAsync(string sqlitePath, Dictionary<string, string> extra)
            {
                extra["Discord__GlobalRateLimit"] = "12";
                var (bot, _) = await BotUnderTest.StartAsync(discord, sqlitePath, extra);
                bots.Add(bot);
                return bot;
            }

            var sqlitePath = Path.Combine(folder, "stores.db");
            var sqlite = await StartAsync(sqlitePath, []);
            var one = await postgres.CreateDatabaseAsync();
            var pg1 = await StartAsync(Path.Combine(folder, "unused1.db"), Postgres(one));
            var two = await postgres.CreateDatabaseAsync();
            // As deploy/compose.yaml: the same ShardCount, disjoint ShardIds; the bench guild's shard is on one of them.
            var pg2a = await StartAsync(Path.Combine(folder, "unused2a.db"), Postgres(two, shard: 0));
            var pg2b = await StartAsync(Path.Combine(folder, "unused2b.db"), Postgres(two, shard: 1));
            var setups = new List<Setup>
            {
                new("SQLite, 1 instance", false, [sqlite], () => CountSqliteAsync(sqlitePath)),
                new("PostgreSQL, 1 instance", true, [pg1], () => CountPostgresAsync(one)),
                new("PostgreSQL, 2 instances", true, [pg2a, pg2b], () => CountPostgresAsync(two)),
            };

            using var http = Load.Client(connections);
            foreach (var setup in setups)
            {
                // JIT, connection pools, page caches; not counted in the rounds (the rows are: see Answered).
                var (warm, _) = await ClosedLoopAsync(http, setup.Bots, connections, TimeSpan.FromSeconds(3));
                setup.Answered += warm.Requests;
            }

            for (var round = 0; round < rounds; round++)
            {
                for (var i = 0; i < setups.Count; i++)
                {
                    var setup = setups[(round + i) % setups.Count];
                    var before = Cpu(setup, postgres);
                    var (result, perListener) = await ClosedLoopAsync(http, setup.Bots, connections, TimeSpan.FromSeconds(seconds));
                    var after = Cpu(setup, postgres);
                    setup.BotCpu += after.Bots - before.Bots;
                    setup.PostgresCpu += after.Postgres - before.Postgres;
                    setup.BenchCpu += after.Bench - before.Bench;
                    setup.Rounds.Add(result);
                    setup.Answered += result.Requests;
                    line($"stores round {round + 1} {setup.Name}: {result.PerSecond:0} /s, p50 {result.Percentile(50):0.00} ms, p99 {result.Percentile(99):0.00} ms, " +
                         $"max {Max(result):0.0} ms, failed {result.Failures}" +
                         (perListener.Count > 1
                             ? " — per listener: " + string.Join(", ", perListener.Select((l, b) => $"shard {b}{(b == GuildShard ? " (the guild's: grants drain here)" : "")} {l.PerSecond:0} /s p50 {l.Percentile(50):0.00} ms"))
                             : ""));
                }
            }

            line($"stores: {connections} connections, closed loop (each sends its next request when the previous is answered), {seconds} s per round, " +
                 $"{rounds} rounds interleaved; two instances get {connections / 2} connections each. Medians over the rounds; max over all rounds:");
            line("| setup | webhooks/s | p50 ms | p99 ms | max ms | failed | CPU ms per webhook: bot(s) / PostgreSQL / load generator | 200 accepted → rows stored |");
            line("|---|---:|---:|---:|---:|---:|---|---|");
            foreach (var setup in setups)
            {
                var requests = setup.Rounds.Sum(r => r.Requests);
                line($"| {setup.Name} | {Median(setup.Rounds.Select(r => r.PerSecond)):0} | {Median(setup.Rounds.Select(r => r.Percentile(50))):0.00} | " +
                     $"{Median(setup.Rounds.Select(r => r.Percentile(99))):0.00} | {setup.Rounds.Max(Max):0.0} | {setup.Rounds.Sum(r => r.Failures)} | " +
                     $"{Per(setup.BotCpu, requests)} / {(setup.OnPostgres ? Per(setup.PostgresCpu, requests) : "—")} / {Per(setup.BenchCpu, requests)} | " +
                     $"{setup.Answered} → {await setup.CountRows()} |");
            }

            var (s, p1, p2) = (setups[0], setups[1], setups[2]);
            line($"stores ratios (medians): throughput PG-1 ÷ SQLite {Ratio(p1, s, r => r.PerSecond)}, PG-2 ÷ PG-1 {Ratio(p2, p1, r => r.PerSecond)}; " +
                 $"p99 PG-1 ÷ SQLite {Ratio(p1, s, r => r.Percentile(99))}, PG-2 ÷ PG-1 {Ratio(p2, p1, r => r.Percentile(99))}");
            line($"stores: load average at end {File.ReadAllText("/proc/loadavg").Trim()}");
        }
        finally
        {
            foreach (var bot in bots)
            {
                await bot.DisposeAsync();
            }

            NpgsqlConnection.ClearAllPools();
            postgres.Remove();
            if (gateway is not null)
            {
                await gateway.DisposeAsync();
            }

            if (discord is not null)
            {
                await discord.DisposeAsync();
            }
        }
    }

    private static Dictionary<string, string> Postgres(string connectionString, int? shard = null)
    {
        // Npgsql's pool defaults, as a deployment has them (the tests' connection strings close idle connections after 2 s,
        // which would make each round open its connections again).
        var npgsql = new NpgsqlConnectionStringBuilder(connectionString) { ConnectionIdleLifetime = 300, ConnectionPruningInterval = 10 };
        var extra = new Dictionary<string, string>
        {
            ["Storage__Provider"] = "postgres",
            ["ConnectionStrings__WalverBot"] = npgsql.ConnectionString,
        };
        if (shard is { } id)
        {
            extra["Discord__ShardCount"] = "2";
            extra["Discord__ShardIds__0"] = id.ToString(CultureInfo.InvariantCulture);
        }

        return extra;
    }

    /// <summary>
    /// Closed loop: worker w sends to listener w % bots (so two instances get half the connections each, as a load
    /// balancer spreading connections would) and sends its next webhook once the previous one is answered. A success is
    /// 200 {"status":"accepted"}: a new delivery committed; anything else, or no answer within 30 s, is a failure.
    /// </summary>
    private static async Task<(Load.Result All, IReadOnlyList<Load.Result> PerListener)> ClosedLoopAsync(HttpClient http, IReadOnlyList<BotUnderTest> bots, int connections, TimeSpan duration)
    {
        var failures = 0;
        var latencies = new List<double>[connections];
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, connections).Select(async w =>
        {
            var bot = bots[w % bots.Count];
            var mine = latencies[w] = new List<double>(100_000);
            while (clock.Elapsed < duration)
            {
                using var message = Webhook(bot, Interlocked.Increment(ref _next));
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await http.SendAsync(message);
                    var body = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode == HttpStatusCode.OK && body.Contains("\"accepted\"", StringComparison.Ordinal))
                    {
                        mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                    else
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }).ToList();
        await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).ToArray();
        var perBot = bots.Select((_, b) => latencies.Where((_, w) => w % bots.Count == b).SelectMany(l => l).ToArray())
            .Select(l => new Load.Result("listener", l.Length, 0, seconds, l)).ToList();
        return (new Load.Result("stores", all.Length, failures, seconds, all), perBot);
    }

    private static HttpRequestMessage Webhook(BotUnderTest bot, int n)
    {
        var body = FakeWalverWebhook.For(BotUnderTest.VerificationId)
            .WithDiscord(BotUnderTest.Username(n % Members))
            .WithSecret(BotUnderTest.Secret)
            .WithChain("ethereum")
            .WithWallet($"0x{n:x40}")
            .WithSignature($"0x{n:x130}")
            .ToString();
        return new HttpRequestMessage(HttpMethod.Post, $"{bot.BaseUrl}/webhooks/walver") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    }

    /// <summary>CPU seconds used so far by the setup's bot processes, the PostgreSQL server (postmaster and its backends) and this process.</summary>
    private static (double Bots, double Postgres, double Bench) Cpu(Setup setup, ThrowawayPostgres postgres)
    {
        var bots = setup.Bots.Sum(b => CpuSeconds(b.Pid));
        var server = postgres.ServerPid() is { } postmaster
            ? CpuSeconds(postmaster) + Children(postmaster).Sum(CpuSeconds)
            : 0;
        return (bots, server, Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds);
    }

    private static double CpuSeconds(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.TotalProcessorTime.TotalSeconds;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return 0; // gone meanwhile (a backend whose connection closed)
        }
    }

    /// <summary>Processes whose parent is <paramref name="parent"/>, from /proc/*/stat (field 4, after the parenthesised name).</summary>
    private static IEnumerable<int> Children(int parent)
    {
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(folder, "stat"));
            }
            catch (IOException)
            {
                continue;
            }

            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length > 1 && int.TryParse(fields[1], out var ppid) && ppid == parent)
            {
                yield return pid;
            }
        }
    }

    private static async Task<long> CountSqliteAsync(string path)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM webhook_events";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<long> CountPostgresAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT COUNT(*) FROM webhook_events", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static double Max(Load.Result result) => result.LatenciesMs.DefaultIfEmpty(double.NaN).Max();

    private static string Per(double cpuSeconds, int requests) => requests == 0 ? "—" : (cpuSeconds * 1000 / requests).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Ratio(Setup a, Setup b, Func<Load.Result, double> value) =>
        (Median(a.Rounds.Select(value)) / Median(b.Rounds.Select(value))).ToString("0.00", CultureInfo.InvariantCulture);

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
