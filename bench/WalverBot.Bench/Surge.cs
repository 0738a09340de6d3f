using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.FakeWalver;

namespace WalverBot.Bench;

/// <summary>
/// A verification surge: the real bot process against the fake Discord enforcing a role-route limit (and the global
/// limit), N verifications posted at an even pace within a minute; how many REST calls each grant cost, how close the
/// drain came to what the limits allow, how many 429s, and how fast webhooks were accepted while the worker drained.
/// </summary>
public static class SurgeBench
{
    private const string GuildBase = "12000000000000";
    private const string RoleBase = "13000000000000";

    private static string GuildId(int g) => $"{GuildBase}{10000 + g}";

    private static string RoleId(int g) => $"{RoleBase}{20000 + g}";

    private static string BotRoleId(int g) => $"{RoleBase}{30000 + g}";

    private static string UserId(int g, int i) => (1600000000000000000L + g * 1_000_000L + i).ToString(CultureInfo.InvariantCulture);

    private static string Username(int g, int i) => $"g{g}m{i:D6}";

    private static string VerificationId(int g) => $"wb_surge_{g}";

    private const string Secret = "surge-secret-0123456789abcdef";

    /// <param name="perGuild">Verifications per guild.</param>
    /// <param name="roleLimit">Role PUTs per second per guild the fake allows (X-RateLimit-Limit of the role bucket, 1 s windows).</param>
    /// <param name="globalLimit">Requests per second the fake allows over all routes, and Discord:GlobalRateLimit of the bot.</param>
    /// <param name="inProcessSender">Send the paced posts from the bench process itself (the method before the sender had a
    /// process of its own; kept for comparison) instead of from a <see cref="PacedSender"/> child process.</param>
    public static async Task RunAsync(string label, int guilds, int perGuild, int roleLimit, int globalLimit, TimeSpan postWithin,
        int burstSeconds, int connections, bool inProcessSender, string folder, Action<string> line)
    {
        var discord = await FakeDiscordServer.StartAsync();
        var gateway = await FakeGatewayServer.StartAsync(discord, new FakeGatewayOptions { HeartbeatIntervalMs = 41_250 });
        try
        {
            discord.SetRateLimit(FakeDiscordBuckets.MemberRoles, roleLimit, TimeSpan.FromSeconds(1));
            // Lookups are not what this measures (the member directory removes them): generous, but on the global limit.
            discord.SetRateLimit(FakeDiscordBuckets.MemberSearch, 100_000, TimeSpan.FromSeconds(1));
            discord.SetRateLimit(FakeDiscordBuckets.MemberGet, 100_000, TimeSpan.FromSeconds(1));
            discord.GlobalRateLimitPerSecond = globalLimit;
            var extra = new Dictionary<string, string> { ["Discord__GlobalRateLimit"] = globalLimit.ToString(CultureInfo.InvariantCulture) };
            for (var g = 0; g < guilds; g++)
            {
                discord.AddGuild(GuildId(g), $"Surge {g}");
                discord.AddRole(GuildId(g), new FakeRole(RoleId(g), "Holder", 1, FakeDiscordPermissions.Of(FakeDiscordPermissions.ViewChannel)));
                discord.AddRole(GuildId(g), new FakeRole(BotRoleId(g), "WalverBot", 5, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles), Managed: true));
                discord.SetBotRoles(GuildId(g), BotRoleId(g));
                for (var i = 0; i < perGuild; i++)
                {
                    discord.AddMember(GuildId(g), new FakeMember(UserId(g, i), Username(g, i)));
                }

                // Index 0 is the bench's own declared verification (BotUnderTest); these follow it.
                extra[$"Verifications__{g + 1}__Id"] = VerificationId(g);
                extra[$"Verifications__{g + 1}__GuildId"] = GuildId(g);
                extra[$"Verifications__{g + 1}__RoleId"] = RoleId(g);
                extra[$"Verifications__{g + 1}__Secret"] = Secret;
                extra[$"Verifications__{g + 1}__Chain"] = "ethereum";
            }

            BotUnderTest.SeedGuild(discord, 1);
            var (bot, _) = await BotUnderTest.StartAsync(discord, Path.Combine(folder, $"surge-{guilds}.db"), extra);
            await using (bot)
            {
                using var http = Load.Client(connections);
                var total = guilds * perGuild;
                // Guilds interleaved: verification n goes to guild n % guilds, its member n / guilds.
                FakeWalverWebhook Verification(int n) => FakeWalverWebhook.For(VerificationId(n % guilds))
                    .WithDiscord(Username(n % guilds, n / guilds)).WithSecret(Secret).WithChain("ethereum")
                    .WithWallet($"0x{n + 1:x40}").WithSignature($"0x{n + 1:x130}");
                var bodies = Path.Combine(folder, $"surge-{guilds}-bodies.jsonl");
                if (!inProcessSender)
                {
                    await File.WriteAllLinesAsync(bodies, Enumerable.Range(0, total).Select(n => Verification(n).ToString()));
                }

                var before = discord.Requests.Count;
                var serverBefore = await WebhookDurationsAsync(http, bot);
                Load.Result surge, behind;
                Load.Result? surgeFromSend = null, connectionWait = null, timerLate = null;
                string failures;
                double postSeconds;
                if (inProcessSender)
                {
                    (surge, behind) = await PacedAsync(http, connections, total, postWithin, n => Post(bot, Verification(n)));
                    postSeconds = surge.Seconds;
                    failures = surge.Failures.ToString(CultureInfo.InvariantCulture);
                }
                else
                {
                    var sent = await PacedSender.RunAsync($"{bot.BaseUrl}/webhooks/walver", bodies, connections, postWithin);
                    postSeconds = sent.Seconds;
                    var failed = sent.Failures.Values.Sum();
                    surge = new Load.Result("surge", sent.Ok, failed, sent.Seconds, sent.FromScheduleMs);
                    surgeFromSend = new Load.Result("surge", sent.Ok, failed, sent.Seconds, sent.FromSendMs);
                    behind = new Load.Result("behind", sent.Count, 0, sent.Seconds, sent.BehindMs);
                    connectionWait = new Load.Result("connection", sent.Count, 0, sent.Seconds, sent.ConnectionWaitMs);
                    timerLate = new Load.Result("timer", sent.Count, 0, sent.Seconds, sent.TimerLateMs);
                    failures = failed == 0 ? "0" : $"{failed} ({string.Join(", ", sent.Failures.Select(f => $"{f.Key}: {f.Value}"))})";
                    if (sent.Ok + failed != total)
                    {
                        throw new InvalidOperationException($"the paced sender accounted for {sent.Ok + failed} of {total} posts");
                    }
                }

                var serverAfter = await WebhookDurationsAsync(http, bot);

                // Acceptance at full speed while the worker drains: new deliveries whose token check failed (decided
                // without a Discord call, so the drain's REST counts stay the surge's own).
                Load.Result? burst = null;
                if (burstSeconds > 0)
                {
                    var next = 0;
                    burst = await Load.RunAsync("burst", http, connections, TimeSpan.FromSeconds(burstSeconds), _ =>
                    {
                        var n = 10_000_000 + Interlocked.Increment(ref next);
                        return Post(bot, FakeWalverWebhook.For(VerificationId(0)).WithDiscord(Username(0, 0)).WithSecret(Secret).WithChain("ethereum")
                            .WithWallet($"0x{n:x40}").WithSignature($"0x{n:x130}").WithToken("0x" + new string('a', 40), 10, 1));
                    }, s => s == HttpStatusCode.OK);
                }

                await discord.WaitUntilAsync(d => d.RoleChanges.Count(c => c.Method == "PUT") >= total, TimeSpan.FromMinutes(15), "every grant of the surge");
                var requests = discord.Requests.Skip(before).ToList();
                var puts = discord.RoleChanges.Where(c => c.Method == "PUT").Select(c => c.At).Order().ToArray();
                var drain = (puts[^1] - puts[0]).TotalSeconds;
                var putCalls = requests.Count(r => r.Method == "PUT" && r.Path.Contains("/roles/", StringComparison.Ordinal));
                var lookups = requests.Count(r => r.Method == "GET" && r.Path.Contains("/members/", StringComparison.Ordinal));
                var tooMany = requests.Count(r => r.Status == 429);
                // What the limits allow: per guild, perGuild PUTs at roleLimit per 1 s window (the last window's PUTs come at
                // the start of the ceil(perGuild/roleLimit)-th window); overall, every call of the drain at globalLimit per second.
                var roleAllows = (Math.Ceiling(perGuild / (double)roleLimit) - 1) * 1.0;
                var globalAllows = (putCalls + lookups) / (double)globalLimit;
                var allows = Math.Max(roleAllows, globalAllows);
                var windows = Math.Max(1, Math.Ceiling(drain));
                line($"surge {label}: {total} verifications ({guilds} guild(s) × {perGuild}) posted in {postSeconds:0.0} s over {connections} connections; " +
                     $"fake Discord: role bucket {roleLimit}/s per guild, global {globalLimit}/s (= Discord:GlobalRateLimit)");
                line($"  REST calls per grant: {(putCalls + lookups) / (double)total:0.000} = {putCalls / (double)total:0.000} role PUTs + {lookups / (double)total:0.000} member lookups (goal ≤ 1.02 once lookups come from the member directory)");
                line($"  drain first → last PUT {drain:0.0} s; the limits allow {allows:0.0} s (role limit {roleAllows:0.0} s, global limit {globalAllows:0.0} s) → ratio {drain / allows:0.000} (goal ≤ 1.05)");
                line($"  429s: {tooMany} over {windows:0} one-second windows × {guilds} bucket(s) → {tooMany / (windows * guilds):0.000} per bucket window (goal ≤ 1)");
                static string Spread(Load.Result r) =>
                    $"p50 {r.Percentile(50):0.0} ms, p99 {r.Percentile(99):0.0} ms, max {r.LatenciesMs.DefaultIfEmpty().Max():0.0} ms";
                static string Summary(Load.Result r) =>
                    $"{Spread(r)}, over 50 ms: {r.LatenciesMs.Count(l => l > 50)}, over 1 s: {r.LatenciesMs.Count(l => l > 1000)}";
                if (surgeFromSend is null)
                {
                    // The sender shares the bench process (and its fake Discord) with the cores of the bot: latencies are from
                    // each post's actual send, its lateness shown apart.
                    line($"  acceptance during the surge (paced, sender in the bench process, from each post's send): {surge.PerSecond:0} /s, {Summary(surge)}, failed {failures}");
                }
                else
                {
                    // From the scheduled time (open loop: a post that waited for a free connection or a late timer pays for
                    // it), and from the actual send for comparison with the in-process sender.
                    line($"  acceptance during the surge (paced, sender in its own process, from each post's scheduled time): {surge.PerSecond:0} /s, {Summary(surge)}, failed {failures}");
                    line($"  the same from each post's actual send: {Summary(surgeFromSend)}");
                }

                line($"  sender behind its schedule: {Spread(behind)}");
                if (connectionWait is not null && timerLate is not null)
                {
                    line($"    of which waiting for a free connection: {Spread(connectionWait)}; the sender's own timers and threads: {Spread(timerLate)}");
                }
                // The bot's own account of the same requests (ASP.NET Core's http.server.request.duration histogram on
                // /metrics, from the request's start in Kestrel to its response): what the bot takes, apart from the
                // sockets, the scheduling of three processes on the cores and the bench's own pauses.
                var served = serverAfter.GetValueOrDefault(double.PositiveInfinity) - serverBefore.GetValueOrDefault(double.PositiveInfinity);
                double Within(double le) => served == 0 || !serverAfter.ContainsKey(le) ? double.NaN : 100.0 * (serverAfter.GetValueOrDefault(le) - serverBefore.GetValueOrDefault(le)) / served;
                line($"  the bot's own time for those webhooks (http.server.request.duration): {Within(0.025):0.00} % within 25 ms, {Within(0.05):0.00} % within 50 ms, {Within(0.1):0.00} % within 100 ms, of {served:0}");
                if (burst is not null)
                {
                    line($"  acceptance at full speed while the worker drains ({burstSeconds} s, {connections} connections, new deliveries): {burst.PerSecond:0} /s, " +
                         $"p50 {burst.Percentile(50):0.0} ms, p99 {burst.Percentile(99):0.0} ms, max {burst.LatenciesMs.DefaultIfEmpty().Max():0.0} ms, over 1 s: {burst.LatenciesMs.Count(l => l > 1000)}, failed {burst.Failures} (goal p99 < 50 ms, none over 1 s)");
                }
            }
        }
        finally
        {
            await gateway.DisposeAsync();
            await discord.DisposeAsync();
        }
    }

    /// <summary>
    /// The bot's cumulative histogram of webhook request durations (bucket upper bound in seconds → requests), summed over
    /// methods and status codes, read from its Prometheus scrape.
    /// </summary>
    private static async Task<Dictionary<double, double>> WebhookDurationsAsync(HttpClient http, BotUnderTest bot)
    {
        var buckets = new Dictionary<double, double>();
        foreach (var line in (await http.GetStringAsync($"{bot.BaseUrl}/metrics")).Split('\n'))
        {
            if (!line.StartsWith("http_server_request_duration_seconds_bucket{", StringComparison.Ordinal)
                || !line.Contains("http_route=\"/webhooks/walver\"", StringComparison.Ordinal))
            {
                continue;
            }

            var le = line[(line.IndexOf("le=\"", StringComparison.Ordinal) + 4)..];
            le = le[..le.IndexOf('"')];
            var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
            var count = double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            buckets[bound] = buckets.GetValueOrDefault(bound) + count;
        }

        return buckets;
    }

    private static HttpRequestMessage Post(BotUnderTest bot, FakeWalverWebhook webhook) =>
        new(HttpMethod.Post, $"{bot.BaseUrl}/webhooks/walver") { Content = new StringContent(webhook.ToString(), Encoding.UTF8, "application/json") };

    /// <summary>
    /// Open loop: request n is sent at n × (within ÷ total) from the start, by whichever of the connections is free.
    /// Returns the latencies and how late each request was sent after its scheduled time.
    /// </summary>
    private static async Task<(Load.Result Latency, Load.Result Behind)> PacedAsync(HttpClient http, int connections, int total, TimeSpan within, Func<int, HttpRequestMessage> request)
    {
        var counter = -1;
        var failures = 0;
        var latencies = new List<double>[connections];
        var behind = new List<double>[connections];
        var clock = Stopwatch.StartNew();
        var gap = within / total;
        var workers = Enumerable.Range(0, connections).Select(async w =>
        {
            var mine = latencies[w] = new List<double>(total / connections + 1);
            var late = behind[w] = new List<double>(total / connections + 1);
            int n;
            while ((n = Interlocked.Increment(ref counter)) < total)
            {
                var due = gap * n - clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due);
                }

                using var message = request(n);
                var started = Stopwatch.GetTimestamp();
                late.Add(Math.Max(0, (clock.Elapsed - gap * n).TotalMilliseconds));
                try
                {
                    using var response = await http.SendAsync(message);
                    await response.Content.LoadIntoBufferAsync();
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                    else
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }).ToList();
        await Task.WhenAll(workers);
        var all = latencies.SelectMany(l => l).ToArray();
        var seconds = clock.Elapsed.TotalSeconds;
        return (new Load.Result("surge", all.Length, failures, seconds, all), new Load.Result("behind", total, 0, seconds, [.. behind.SelectMany(l => l)]));
    }
}
