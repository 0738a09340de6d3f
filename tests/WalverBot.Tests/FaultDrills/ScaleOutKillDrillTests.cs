using System.Collections.Concurrent;
using System.Globalization;
using Dapper;
using Npgsql;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.FakeWalver;
using WalverBot.Testing.Http;
using WalverBot.Testing.Waiting;
using WalverBot.Tests.Hosting;
using WalverBot.Tests.Operations;
using WalverBot.Tests.Storage;

namespace WalverBot.Tests.FaultDrills;

/// <summary>
/// The scale-out kill drill: three real bot processes on one PostgreSQL database, one shard each of three, webhooks spread over
/// all three listeners while Discord answers every role PUT slowly, kill -9 of one instance in the middle, then its
/// restart with the same ShardIds.
/// </summary>
[Trait("Needs", "postgres")]
[LongRunning(60)]
public sealed class ScaleOutKillDrillTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Webhooks = 2000;
    private const int Shards = 3;

    /// <summary>
    /// Several guilds per shard: the bot sends one request at a time per rate-limit bucket, and the role route's bucket
    /// is per guild, so one guild's grants follow each other at Discord's answer time; with six guilds per shard the
    /// drill's grants run six at a time on each instance, as a busy shard's would.
    /// </summary>
    private const int GuildsPerShard = 6;

    private const int Guilds = Shards * GuildsPerShard;
    private const int Victim = 1;
    private const int KillAfterAccepted = Webhooks / 3;

    /// <summary>Walver sends a delivery that got no 200 again, three times, then marks it failed.</summary>
    private const int WalverRetries = 3;

    /// <summary>Discord answers each role PUT only after this (the fake holds the request, then applies the role).</summary>
    private static readonly TimeSpan SlowPut = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(120);

    [SkippableFact]
    public async Task Every_accepted_webhook_is_granted_exactly_once_and_a_killed_instances_shard_is_finished_by_its_restart()
    {
        var connectionString = await (await PostgresCluster.GetAsync()).CreateDatabaseAsync();
        await using var scenario = await ProcessScenario.StartAsync();
        var discord = scenario.Discord;
        var guilds = Enumerable.Range(0, Guilds).Select(GuildNumber).ToArray();
        var settings = new List<(string, string)>
        {
            ("Storage__Provider", "postgres"), ("ConnectionStrings__WalverBot", connectionString),
            ("Security__Signatures", "Off"), ("Grants__RetryFor", "01:00:00"),
            ("Discord__ShardCount", "3"),
            // All webhooks come from one loopback address here; behind a proxy each instance would see Walver's.
            ("Webhook__RateLimitPerMinute", "100000"),
            // Discord's global limit is per token: each of the three takes a third of the fake's (raised, see below).
            ("Discord__GlobalRateLimit", "100"),
        };
        for (var g = 0; g < Guilds; g++)
        {
            discord.AddGuild(guilds[g], $"Drill {g}");
            discord.AddRole(guilds[g], new FakeRole(HolderRole(g), "Holder", 1, FakeDiscordPermissions.Of(FakeDiscordPermissions.ViewChannel)));
            discord.AddRole(guilds[g], new FakeRole(BotRole(g), "WalverBot", 5, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles), Managed: true));
            discord.SetBotRoles(guilds[g], BotRole(g));
            settings.AddRange([
                ($"Verifications__{g}__Id", VerificationId(g)), ($"Verifications__{g}__GuildId", guilds[g]),
                ($"Verifications__{g}__RoleId", HolderRole(g)), ($"Verifications__{g}__Secret", BotScenarioSecret),
                ($"Verifications__{g}__Chain", "ethereum"),
            ]);
        }

        // Member i belongs to guild i % Guilds, which is on shard i % Shards.
        for (var i = 0; i < Webhooks; i++)
        {
            discord.AddMember(guilds[i % Guilds], new FakeMember(UserId(i), Username(i)));
        }

        // The drill is about crash safety, not Discord's limits (the rate-limit tests and benchmark cover those): the
        // per-guild member search and role buckets and the global limit are raised so 2,000 grants fit in the run.
        discord.SetRateLimit(FakeDiscordBuckets.MemberRoles, 1000, TimeSpan.FromSeconds(1));
        discord.SetRateLimit(FakeDiscordBuckets.MemberSearch, 1000, TimeSpan.FromSeconds(1));
        discord.GlobalRateLimitPerSecond = 300;
        for (var i = 0; i < Webhooks; i++)
        {
            // One delay per member's PUT: the fake applies every queued fault that matches a request, so a shared
            // pattern would hold the first PUT for all of them.
            discord.InjectFault("PUT", $"/guilds/{guilds[i % Guilds]}/members/{UserId(i)}/roles/{HolderRole(i % Guilds)}", FakeFault.Delay(SlowPut), times: 1);
        }

        var environment = scenario.With([.. settings]);

        var bots = new BotProcess?[Shards];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Phase(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s  {what}");
        try
        {
            // One after the other: the first creates the schema and declares the verifications.
            var bases = new string[Shards];
            for (var shard = 0; shard < Shards; shard++)
            {
                bots[shard] = BotProcess.Start(Shard(environment, shard));
                bases[shard] = await bots[shard]!.WaitForListeningAsync(Generous);
            }

            Phase("three instances listening");
            var acknowledged = new ConcurrentBag<int>();
            var duplicates = new ConcurrentBag<int>();
            var dropped = new ConcurrentBag<string>();
            var retriedAfter = new ConcurrentBag<string>();
            var unexpected = new ConcurrentBag<string>();
            var retries = new ConcurrentBag<Task>();
            var victimDown = 0;
            using var sender = new FakeWalverWebhookSender();

            // One delivery attempt: true when it is over (acknowledged, or an answer Walver does not retry).
            async Task<bool> AttemptAsync(int i, int target)
            {
                try
                {
                    var answer = await sender.SendAsync($"{bases[target]}/webhooks/walver", Webhook(i));
                    if (answer.Status == 200 && answer.Json?["status"]?.GetValue<string>() is "accepted" or "duplicate")
                    {
                        acknowledged.Add(i);
                        if (answer.Json["status"]!.GetValue<string>() == "duplicate")
                        {
                            duplicates.Add(i); // stored by an earlier attempt whose answer was lost (e.g. the victim died before it answered)
                        }

                        return true;
                    }

                    // 503 is "not stored, send again" (a store slower than Storage:BusyTimeout on a starved machine).
                    (answer.Status == 503 ? retriedAfter : unexpected).Add($"instance {target}: {answer.Status} {answer.Body}");
                    return answer.Status != 503;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    // Never acknowledged, so sent again: the victim died under this request or before it, or (on a
                    // starved machine) a live instance closed a kept-alive connection as idle just as the request went
                    // out on it, HTTP/1.1's persistent-connection race (RFC 9112, 9.3.1), or the answer took too long.
                    dropped.Add($"instance {target}: {ex.Message} ({ex.InnerException?.Message})");
                    return false;
                }
            }

            // A load balancer sends each attempt to a live instance: the victim gets none once it is down.
            int Live(int target) => target == Victim && Volatile.Read(ref victimDown) == 1 ? (target + 1) % Shards : target;

            // Walver's retries, each to the next instance; they run beside the burst, as
            // Walver's would, instead of holding one of its sending lanes.
            async Task RetryAsync(int i, int target)
            {
                for (var retry = 1; retry <= WalverRetries; retry++)
                {
                    // Walver waits 30 s between tries; the drill waits for the fact that wait is for instead: the
                    // instance it sends to says it can store webhooks again (/readyz: its database takes a write).
                    target = Live((target + 1) % Shards);
                    await Eventually.UntilAsync(() => IsReadyAsync(bases[target]), $"instance {target} ready for a retry", Generous);
                    if (await AttemptAsync(i, target))
                    {
                        return;
                    }
                }
            }

            // Spread over all three listeners, each taking webhooks of every shard's guilds (any instance accepts any
            // guild's webhook).
            var sending = Task.Run(() => Parallel.ForEachAsync(Enumerable.Range(0, Webhooks), new ParallelOptions { MaxDegreeOfParallelism = 12 }, async (i, _) =>
            {
                var target = Live(i / Shards % Shards);
                if (!await AttemptAsync(i, target))
                {
                    retries.Add(RetryAsync(i, target));
                }
            }));

            // What the senders have seen so far, and each instance's store and log, for a wait that times out.
            string Sent() => $"{acknowledged.Count} acknowledged, {retries.Count} waiting for Walver's retries, {unexpected.Count} unexpected answers; "
                + string.Join("; ", retriedAfter.Concat(dropped).Concat(unexpected).GroupBy(r => r).Select(g => $"{g.Count()} x {g.Key}"))
                + "\n" + Diagnose(bots, connectionString);

            // The kill comes in the middle of the burst, once the victim holds claims on events it has not finished.
            await Eventually.UntilAsync(() => acknowledged.Count >= KillAfterAccepted, $"{KillAfterAccepted} acknowledged webhooks", Generous, Sent);
            await Eventually.UntilAsync(async () => await UnfinishedClaimsAsync(connectionString, Identity(Victim)) > 0,
                "unfinished events claimed by the victim", Generous, Sent);
            Volatile.Write(ref victimDown, 1);
            await bots[Victim]!.KillAsync();
            Assert.Equal(137, bots[Victim]!.ExitCode);
            var killedAt = DateTimeOffset.UtcNow;
            Phase($"victim killed after {acknowledged.Count} acknowledged");
            var leftClaimed = await UnfinishedClaimsAsync(connectionString, Identity(Victim));
            await sending;
            Phase($"burst sent: {acknowledged.Count} acknowledged, {retries.Count} waiting for Walver's retries; the victim left {leftClaimed} claimed unfinished");
            Assert.True(leftClaimed > 0);
            Assert.All(bots.Where((_, n) => n != Victim), bot => Assert.False(bot!.HasExited)); // the victim is the only one that died

            // The other two finish their own shards; the victim's guilds wait for its shard's instance. Walver's retries
            // (each once its instance is ready) go on beside this and the restart, as they would.
            var others = acknowledged.Where(i => i % Shards != Victim).ToList();
            await WaitForAssignmentsAsync(discord, others, guilds, () => Diagnose(bots, connectionString));
            Phase("the other two shards granted");
            var restartedAt = DateTimeOffset.UtcNow;
            bots[Victim] = BotProcess.Start(Shard(environment, Victim));
            bases[Victim] = await bots[Victim]!.WaitForListeningAsync(Generous);
            Volatile.Write(ref victimDown, 0); // back behind the load balancer: the remaining retries may reach it too

            await Task.WhenAll(retries);
            Phase($"Walver's retries sent: {acknowledged.Count} acknowledged ({duplicates.Count} as duplicates), {dropped.Count} connections dropped and sent again, "
                + $"{retriedAfter.Count} sent again after a 503");
            foreach (var reason in retriedAfter.Concat(dropped).GroupBy(r => r))
            {
                Phase($"  sent again {reason.Count()} x after {reason.Key}");
            }

            // Every delivery is acknowledged in the end, by a live instance; no instance answers anything but 200 or 503.
            Assert.True(unexpected.IsEmpty, "unexpected answers: " + string.Join("; ", unexpected.GroupBy(r => r).Select(g => $"{g.Count()} x {g.Key}"))
                + "\n" + Diagnose(bots, connectionString));
            Assert.True(acknowledged.Count == Webhooks, $"{Webhooks - acknowledged.Count} deliveries never acknowledged after {WalverRetries} retries: "
                + string.Join("; ", retriedAfter.Concat(dropped).GroupBy(r => r).Select(g => $"{g.Count()} x {g.Key}")));
            var accepted = acknowledged.ToList();
            await WaitForAssignmentsAsync(discord, [.. accepted], guilds, () => Diagnose(bots, connectionString));
            Phase("every accepted webhook granted, the victim's shard after its restart");
            // Every stored event decided: from then on no worker calls Discord again, so the counts below are final.
            await Eventually.UntilAsync(async () => await UndecidedAsync(connectionString) == 0, "every stored event decided", Generous);

            // Exactly one role assignment (a PUT the fake applied) per accepted webhook's member, none twice for anyone.
            var assignments = AssignmentsPerMember(discord, guilds);
            Assert.All(accepted, i => Assert.Equal(1, assignments.GetValueOrDefault(UserId(i))));
            var twice = assignments.Where(pair => pair.Value != 1).Select(pair => pair.Key).ToList();
            Assert.True(twice.Count == 0, $"{twice.Count} member(s) got more than one role PUT:\n" + await DescribeAsync(twice, discord, connectionString) + "\n" + Diagnose(bots, connectionString));

            // Each guild's events were decided under its own shard's identity: the victim's by the victim (before the
            // kill) or its restart, never by the others; and none of them while the victim was down.
            await using var connection = new NpgsqlConnection(connectionString);
            var deciders = (await connection.QueryAsync<(long Guild, string? ClaimedBy, long Count)>(
                "SELECT guild_id, claimed_by, count(*) FROM webhook_events GROUP BY guild_id, claimed_by")).ToList();
            Assert.All(deciders, d => Assert.Equal(Identity(ShardOf(d.Guild)), d.ClaimedBy));
            var finishedWhileDown = await connection.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM webhook_events WHERE guild_id = ANY(@victimGuilds) AND finished_at > @killed AND finished_at < @restarted",
                new
                {
                    victimGuilds = guilds.Where((_, g) => g % Shards == Victim).Select(id => long.Parse(id, CultureInfo.InvariantCulture)).ToArray(),
                    killed = Format(killedAt), restarted = Format(restartedAt),
                });
            Assert.Equal(0, finishedWhileDown);
            Assert.Contains(bots[Victim]!.Output, line => line.Contains($"claims work as {Identity(Victim)}", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var bot in bots)
            {
                if (bot is not null)
                {
                    await bot.DisposeAsync();
                }
            }
        }
    }

    private const string BotScenarioSecret = Hosting.BotScenario.Secret;

    private static Dictionary<string, string> Shard(Dictionary<string, string> environment, int shard) =>
        new(environment) { ["Discord__ShardIds__0"] = shard.ToString(CultureInfo.InvariantCulture) };

    private static string Identity(int shard) => $"shards-{shard}-of-{Shards}";

    /// <summary>Guild number <paramref name="g"/>'s id, on shard g % Shards: Discord's (guild_id &gt;&gt; 22) % shard count.</summary>
    private static string GuildNumber(int g)
    {
        var high = (1_250_000_000_000_000_000UL >> 22) / Shards * Shards;
        return (((high + (ulong)g) << 22) | 0x1B).ToString(CultureInfo.InvariantCulture);
    }

    private static int ShardOf(long guild) => (int)(((ulong)guild >> 22) % Shards);

    private static string VerificationId(int shard) => $"wb_drill_{shard}";

    private static string HolderRole(int shard) => (1300000000000000100L + shard).ToString(CultureInfo.InvariantCulture);

    private static string BotRole(int shard) => (1300000000000000200L + shard).ToString(CultureInfo.InvariantCulture);

    private static string UserId(int i) => (1500000000000000000L + i).ToString(CultureInfo.InvariantCulture);

    private static string Username(int i) => $"member{i:D4}";

    private static FakeWalverWebhook Webhook(int i) =>
        FakeWalverWebhook.For(VerificationId(i % Guilds))
            .WithDiscord(Username(i))
            .WithSecret(BotScenarioSecret)
            .WithChain("ethereum")
            .WithWallet($"0x{i:x40}")
            .WithSignature($"0x{i:x130}");

    /// <summary>Role PUTs of each guild's holder role, per member.</summary>
    private static Dictionary<string, int> AssignmentsPerMember(FakeDiscordServer discord, string[] guilds)
    {
        var isHolderPut = HolderPuts(guilds);
        return discord.RoleChanges.Where(isHolderPut).GroupBy(c => c.UserId).ToDictionary(g => g.Key, g => g.Count());
    }

    /// <summary>Whether a role change is a PUT of its guild's Holder role (the drill's grants).</summary>
    private static Func<FakeRoleChange, bool> HolderPuts(string[] guilds)
    {
        var holderRoleOf = guilds.Select((guild, g) => (guild, HolderRole(g))).ToDictionary();
        return c => c.Method == "PUT" && holderRoleOf.GetValueOrDefault(c.GuildId) == c.RoleId;
    }

    private static async Task WaitForAssignmentsAsync(FakeDiscordServer discord, IReadOnlyCollection<int> members, string[] guilds, Func<string> diagnose)
    {
        // The condition is checked on every change to the fake (thousands here), so it reads only the role changes
        // that came since it last looked (the list only grows) instead of counting all of them each time.
        var isHolderPut = HolderPuts(guilds);
        var unassigned = members.Select(UserId).ToHashSet();
        var read = 0;
        try
        {
            await discord.WaitUntilAsync(d =>
            {
                var changes = d.RoleChanges;
                for (; read < changes.Count; read++)
                {
                    if (isHolderPut(changes[read]))
                    {
                        unassigned.Remove(changes[read].UserId);
                    }
                }

                return unassigned.Count == 0;
            }, Generous, $"role assignments for {members.Count} accepted webhooks");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} ({unassigned.Count} missing)\n{diagnose()}", ex);
        }
    }

    private static string Diagnose(BotProcess?[] bots, string connectionString)
    {
        string stored;
        try
        {
            using var connection = new NpgsqlConnection(connectionString);
            var states = connection.Query<(long Guild, string Status, string? ClaimedBy, long Count)>(
                "SELECT guild_id, status, claimed_by, count(*) FROM webhook_events GROUP BY guild_id, status, claimed_by ORDER BY 1, 2");
            stored = string.Join('\n', states.Select(s => $"{s.Guild} {s.Status} {s.ClaimedBy}: {s.Count}"));
        }
        catch (NpgsqlException ex)
        {
            stored = $"(could not read webhook_events: {ex.Message})";
        }

        return stored
            + string.Concat(bots.Select((b, n) => b is null ? "" : $"\n--- instance {n}:\n{string.Join('\n', b.Output.TakeLast(25))}"));
    }

    /// <summary>
    /// For members who got more than one role PUT: each PUT as the fake saw it, and each of their stored events (attempts,
    /// last error, claimant) and decisions, which tell a retry after a lost answer from a second run of the same event.
    /// </summary>
    private static async Task<string> DescribeAsync(IReadOnlyList<string> userIds, FakeDiscordServer discord, string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        var lines = new List<string>();
        foreach (var userId in userIds.Take(5))
        {
            var username = Username((int)(long.Parse(userId, CultureInfo.InvariantCulture) - long.Parse(UserId(0), CultureInfo.InvariantCulture)));
            lines.Add($"member {userId} ({username}):");
            lines.AddRange(discord.RequestsTo("PUT", $"/guilds/*/members/{userId}/roles/*").Select(r => $"  {r}"));
            var decisions = (await connection.QueryAsync<(string At, long? EventId, string Outcome, string Reason)>(
                "SELECT at, event_id, outcome, reason FROM decisions WHERE user_id = @userId ORDER BY at", new { userId = long.Parse(userId, CultureInfo.InvariantCulture) })).ToList();
            lines.AddRange(decisions.Select(d => $"  decision at {d.At} for event {d.EventId}: {d.Outcome} ({d.Reason})"));
            var events = await connection.QueryAsync<(long Id, string Status, long Attempts, string? LastError, string? ClaimedBy, string ReceivedAt, string? FinishedAt)>(
                "SELECT id, status, attempts, last_error, claimed_by, received_at, finished_at FROM webhook_events WHERE id = ANY(@ids)",
                new { ids = decisions.Where(d => d.EventId is not null).Select(d => d.EventId!.Value).Distinct().ToArray() });
            lines.AddRange(events.Select(e => $"  event {e.Id}: {e.Status}, {e.Attempts} attempt(s), claimed by {e.ClaimedBy}, received {e.ReceivedAt}, finished {e.FinishedAt}, last error: {e.LastError}"));
        }

        return string.Join('\n', lines);
    }

    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(10) };

    private static async Task<bool> IsReadyAsync(string baseUrl)
    {
        try
        {
            using var response = await Probe.GetAsync($"{baseUrl}/readyz");
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static string Format(DateTimeOffset value) => WalverBot.Storage.Database.Format(value);

    /// <summary>Pending events claimed by <paramref name="identity"/> (a claim whose work is not finished).</summary>
    private static async Task<long> UnfinishedClaimsAsync(string connectionString, string identity)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM webhook_events WHERE status = 'pending' AND claimed_by = @identity", new { identity });
    }

    private static async Task<long> UndecidedAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM webhook_events WHERE status IN ('pending', 'waiting_member')");
    }
}
