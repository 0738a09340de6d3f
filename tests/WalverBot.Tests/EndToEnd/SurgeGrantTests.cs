using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Grants;
using WalverBot.Storage;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.Http;

namespace WalverBot.Tests.EndToEnd;

/// <summary>
/// Grants under a surge: decisions committed in batches lose nothing when a commit fails, a guild waiting for its role
/// bucket holds back no other guild, and a 429 costs one retry.
/// </summary>
public sealed class SurgeGrantTests
{
    private const string OtherGuildId = "1200000000000000002";
    private const string OtherRoleId = "1300000000000000020";
    private const string OtherBotRoleId = "1300000000000000060";
    private const string OtherVerificationId = "wb_other_guild";
    private const string OtherSecret = "other-guild-secret-0123456789abcdef";
    private const string RolePuts = "/guilds/*/members/*/roles/*";
    private const string FirstGuildPuts = $"/guilds/{BotScenario.GuildId}/members/*/roles/*";

    private static string MemberId(int i) => $"14000000000000002{i:00}";

    private static Dictionary<string, string?> Settings() => new()
    {
        ["Verifications:1:Id"] = OtherVerificationId,
        ["Verifications:1:GuildId"] = OtherGuildId,
        ["Verifications:1:RoleId"] = OtherRoleId,
        ["Verifications:1:Secret"] = OtherSecret,
        ["Verifications:1:Chain"] = "ethereum",
        // Every test wallet is the same key; one wallet, one member would refuse all but the first member.
        ["Grants:OneMemberPerWallet"] = "false",
    };

    private static async Task<BotScenario> StartAsync(int members, FakeTimeProvider? time = null, Action<FakeDiscordServer>? arrange = null)
    {
        var bot = await BotScenario.StartAsync(Settings(), startBot: false, time: time);
        bot.Discord.AddGuild(OtherGuildId, "Other Guild");
        bot.Discord.AddRole(OtherGuildId, new FakeRole(OtherRoleId, "Member", 1, FakeDiscordPermissions.Of(FakeDiscordPermissions.ViewChannel)));
        bot.Discord.AddRole(OtherGuildId, new FakeRole(OtherBotRoleId, "WalverBot", 5, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles), Managed: true));
        bot.Discord.SetBotRoles(OtherGuildId, OtherBotRoleId);
        bot.Discord.AddMember(OtherGuildId, new FakeMember("1400000000000000300", "carol"));
        for (var i = 0; i < members; i++)
        {
            bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(MemberId(i), $"surger{i}"));
        }

        arrange?.Invoke(bot.Discord);
        await bot.StartBotAsync();
        return bot;
    }

    private static WalverBot.Testing.FakeWalver.FakeWalverWebhook Member(BotScenario bot, int i) => bot.Webhook($"surger{i}");

    private static int AnsweredPuts(BotScenario bot, string guildId, string userId, string roleId) =>
        bot.Discord.RequestsTo("PUT", $"/guilds/{guildId}/members/{userId}/roles/{roleId}").Count(r => r.Status is not null);

    [Fact]
    public async Task Events_whose_decision_batch_failed_to_commit_stay_due_and_are_replayed_to_exactly_one_decision_each()
    {
        const int members = 5;
        await using var bot = await StartAsync(members);
        var failing = 1;
        bot.Services.GetRequiredService<GrantLedger>().Writer.BeforeCommit = _ =>
            Volatile.Read(ref failing) == 1 ? throw new SqliteException("disk I/O error (injected before the commit)", 10) : Task.CompletedTask;

        for (var i = 0; i < members; i++)
        {
            Assert.Equal(200, (await bot.SendAsync(Member(bot, i))).Status);
        }

        // Each role PUT happened, then the commit of its decision failed: no decision, the event still due.
        var events = await Eventually.UntilAsync(() => EventsAsync(bot), all => all.Count == members && all.All(e => e.InternalErrors == 1),
            "every event rescheduled after its failed commit", describe: all => string.Join("; ", all));
        Assert.All(events, e => Assert.Equal("pending", e.Status));
        Assert.Equal(0, await DecisionCountAsync(bot));
        for (var i = 0; i < members; i++)
        {
            Assert.Equal(1, AnsweredPuts(bot, BotScenario.GuildId, MemberId(i), BotScenario.HolderRoleId));
        }

        // Discord reports each of those role changes over the gateway (GUILD_MEMBER_UPDATE); once the member directory has
        // them, the replay knows every member already holds the role.
        var directory = bot.Services.GetRequiredService<WalverBot.Discord.Gateway.IMemberDirectory>();
        await Eventually.UntilAsync(
            () => Enumerable.Range(0, members).Count(i => directory.TryGetMember(ulong.Parse(BotScenario.GuildId), ulong.Parse(MemberId(i)), out var member)
                && member!.Roles.Contains(ulong.Parse(BotScenario.HolderRoleId))),
            held => held == members, "every member's role in the member directory", describe: held => $"{held} of {members}");

        // The disk recovers; the events fall due (their backoff skipped) and are replayed.
        Volatile.Write(ref failing, 0);
        await ExecuteAsync(bot, "UPDATE webhook_events SET next_attempt_at = '2000-01-01T00:00:00.0000000+00:00' WHERE status = 'pending'");
        bot.Services.GetRequiredService<GrantSignal>().Notify();

        await Eventually.UntilAsync(() => EventsAsync(bot), all => all.All(e => e.Status == "done"), "every event done", describe: all => string.Join("; ", all));
        await using var connection = await bot.Services.GetRequiredService<Database>().OpenAsync();
        var perEvent = (await connection.QueryAsync<(long EventId, string Outcome, int Count)>(
            "SELECT event_id, outcome, COUNT(*) FROM decisions GROUP BY event_id, outcome")).ToList();
        Assert.Equal(members, perEvent.Count);
        Assert.All(perEvent, d => Assert.Equal((Outcomes.Granted, 1), (d.Outcome, d.Count)));
        Assert.All(await connection.QueryAsync<string>("SELECT reason FROM decisions"), reason => Assert.Contains("already had the role", reason, StringComparison.Ordinal));
        for (var i = 0; i < members; i++)
        {
            // The first PUT landed before the failed commit; the replay found the role in the directory and called nothing.
            Assert.Equal(1, AnsweredPuts(bot, BotScenario.GuildId, MemberId(i), BotScenario.HolderRoleId));
            Assert.Contains(BotScenario.HolderRoleId, bot.Discord.GetMemberRoles(BotScenario.GuildId, MemberId(i)));
        }

        Assert.Equal(members, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM role_grants WHERE status = 'granted'"));
    }

    [Fact]
    public async Task A_guild_waiting_for_its_empty_role_bucket_does_not_hold_back_another_guilds_grant()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow); // now: webhooks carry the real verification_time, and one from the bot's future is refused
        // One role change per minute per guild: the first grant empties the guild's bucket until the clock moves.
        await using var bot = await StartAsync(3, time, discord => discord.SetRateLimit(FakeDiscordBuckets.MemberRoles, 1, TimeSpan.FromMinutes(1)));

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(200, (await bot.SendAsync(Member(bot, i))).Status);
        }

        // The first grant is decided and the other two are claimed by the worker, waiting for the bucket's reset.
        await Inbox.WaitForDecisionAsync(bot, Outcomes.Granted);
        await Eventually.UntilAsync(() => ClaimedAsync(bot), claimed => claimed == 2, "the first guild's other two events claimed");

        // The second guild's delivery arrives while the first guild's other two grants wait for its bucket.
        var other = WalverBot.Testing.FakeWalver.FakeWalverWebhook.For(OtherVerificationId).WithDiscord("carol").WithSecret(OtherSecret).Signed();
        Assert.Equal(200, (await bot.SendAsync(other)).Status);
        await bot.Discord.WaitUntilAsync(d => d.GetMemberRoles(OtherGuildId, "1400000000000000300").Contains(OtherRoleId),
            TimeSpan.FromSeconds(15), "the other guild's role");

        Assert.Single(bot.Discord.RequestsTo("PUT", FirstGuildPuts));
        // The bot waited for the reset the headers announced instead of sending into the empty bucket.
        Assert.Equal(0, bot.Discord.StatsFor(FakeDiscordBuckets.MemberRoles).TooManyRequests);

        // Once the bucket's minute has passed, the first guild's next grant goes out, still without a 429. The clock moves
        // 5 s at a time until then, as real time would, not a minute at once: one jump fires every timer of that minute
        // together (the claims' renewals among them), and in one run beside a loaded suite the second PUT then never came
        // (not diagnosed further).
        await Eventually.UntilAsync(() =>
        {
            var answered = bot.Discord.RequestsTo("PUT", FirstGuildPuts).Count(r => r.Status is not null);
            if (answered < 2)
            {
                time.Advance(TimeSpan.FromSeconds(5));
            }

            return answered;
        }, answered => answered >= 2, "the first guild's second role PUT", TimeSpan.FromSeconds(15));
        Assert.Equal(0, bot.Discord.StatsFor(FakeDiscordBuckets.MemberRoles).TooManyRequests);
    }

    [Fact]
    public async Task A_rate_limited_role_put_is_retried_once_and_a_second_429_reschedules_the_grant_instead_of_retrying_again()
    {
        await using var bot = await StartAsync(1);
        bot.Discord.InjectFault("PUT", RolePuts, FakeFault.RateLimited(0.05), times: 2);

        Assert.Equal(200, (await bot.SendAsync(Member(bot, 0))).Status);

        var rescheduled = await Eventually.UntilAsync(() => EventsAsync(bot), all => all.Single().Attempts == 1,
            "the grant rescheduled after the second 429", describe: all => string.Join("; ", all));
        Assert.Equal("pending", rescheduled.Single().Status);
        Assert.Contains("rate limited", rescheduled.Single().LastError, StringComparison.Ordinal);
        // The first try and one retry, then the worker's backoff: never a burst of 429s.
        Assert.Equal(2, bot.Discord.RequestsTo("PUT", RolePuts).Count);

        await ExecuteAsync(bot, "UPDATE webhook_events SET next_attempt_at = '2000-01-01T00:00:00.0000000+00:00' WHERE status = 'pending'");
        bot.Services.GetRequiredService<GrantSignal>().Notify();
        await bot.WaitForRolePutsAsync(MemberId(0), 3);
        await Inbox.WaitForDecisionAsync(bot, Outcomes.Granted);
        Assert.Equal(3, bot.Discord.RequestsTo("PUT", RolePuts).Count);
    }

    private sealed record EventRow(long Id, string Status, int Attempts, int InternalErrors, string LastError)
    {
        public EventRow()
            : this(0, "", 0, 0, "")
        {
        }
    }

    private static async Task<IReadOnlyList<EventRow>> EventsAsync(BotScenario bot)
    {
        await using var connection = await bot.Services.GetRequiredService<Database>().OpenAsync();
        return [.. await connection.QueryAsync<EventRow>(
            "SELECT id, status, attempts, internal_errors AS InternalErrors, COALESCE(last_error, '') AS LastError FROM webhook_events ORDER BY id")];
    }

    private static async Task<int> ClaimedAsync(BotScenario bot)
    {
        await using var connection = await bot.Services.GetRequiredService<Database>().OpenAsync();
        return await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM webhook_events WHERE status = 'pending' AND claimed_by IS NOT NULL");
    }

    private static async Task<int> DecisionCountAsync(BotScenario bot)
    {
        await using var connection = await bot.Services.GetRequiredService<Database>().OpenAsync();
        return await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM decisions");
    }

    private static async Task ExecuteAsync(BotScenario bot, string sql)
    {
        await using var connection = await bot.Services.GetRequiredService<Database>().OpenAsync();
        await connection.ExecuteAsync(sql);
    }
}
