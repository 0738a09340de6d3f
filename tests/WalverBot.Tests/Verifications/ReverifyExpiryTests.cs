using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Commands;
using WalverBot.Discord;
using WalverBot.Discord.Rest;
using WalverBot.Grants;
using WalverBot.Operations;
using WalverBot.Storage;
using WalverBot.Tests.Storage;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.Http;
using WalverBot.Verifications;
using WalverBot.Webhooks;

namespace WalverBot.Tests.Verifications;

/// <summary>
/// ReverifyAfter against the fake Discord, on a fake clock: real SQLite, the real REST client and ledger; time moves only
/// when a test moves it, so 90 days pass without waiting.
/// </summary>
public sealed class ReverifyExpiryTests : IAsyncLifetime
{
    private const string Guild = "1200000000000000001";
    private const string Holder = "1300000000000000010";
    private const string BotRole = "1300000000000000050";
    private const string Alice = "1400000000000000001";
    private const string Bob = "1400000000000000002";
    private const string Id = "wb_rv";
    private const string RoleDeletes = "/guilds/*/members/*/roles/*";
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Period = TimeSpan.FromDays(90);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly RecordingNotifier _notices = new();
    private FakeDiscordServer _discord = null!;
    private TestDatabase _db = null!;
    private ServiceProvider _services = null!;
    private VerificationStore _store = null!;
    private GrantLedger _ledger = null!;

    public async Task InitializeAsync()
    {
        _discord = await FakeDiscordServer.StartAsync();
        _discord.AddGuild(Guild, "Test Guild");
        _discord.AddRole(Guild, new FakeRole(Holder, "Holder", 1));
        _discord.AddRole(Guild, new FakeRole(BotRole, "WalverBot", 5, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles), Managed: true));
        _discord.SetBotRoles(Guild, BotRole);
        _discord.AddMember(Guild, new FakeMember(Alice, "alice") { Roles = [Holder] });
        _discord.AddMember(Guild, new FakeMember(Bob, "bob") { Roles = [Holder] });

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(TimeProvider.System); // Discord's rate limits run on real time; the expiry runs on _time
        services.AddOptions<DiscordOptions>().Configure(o => { o.Token = _discord.Token; o.ApiBaseUrl = _discord.ApiBaseUrl; });
        services.AddDiscordRest();
        _services = services.BuildServiceProvider();

        _db = await TestDatabase.CreateAsync();
        _store = new VerificationStore(_db.Database, _time);
        _ledger = new GrantLedger(_db.Database, _time, NullLogger<GrantLedger>.Instance, _notices,
            new BotMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        await _store.UpsertAsync(Plain(Id, Period));
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _db.DisposeAsync();
        await _discord.DisposeAsync();
    }

    private static Verification Plain(string id, TimeSpan? reverifyAfter) => new()
    {
        Id = id, GuildId = ulong.Parse(Guild), RoleId = ulong.Parse(Holder), SecretHash = "x", Source = "config", Chain = "ethereum",
        ReverifyAfter = reverifyAfter,
    };

    private ReverifyExpiry NewExpiry() =>
        new(_db.Database, _store, _services.GetRequiredService<IDiscordRestClient>(), _notices, _time, NullLogger<ReverifyExpiry>.Instance);

    /// <summary>A verification of <paramref name="userId"/> recorded now (on the fake clock), as the grant worker records it.</summary>
    private async Task VerifyAsync(string userId, string wallet, string verificationId = Id)
    {
        await using var connection = await _db.Database.OpenAsync();
        var eventId = await connection.ExecuteScalarAsync<long>("""
            INSERT INTO webhook_events (delivery_key, verification_id, guild_id, wallet_address, member_query, payload, received_at, status, next_attempt_at)
            VALUES (@key, @verificationId, @guild, @wallet, NULL, '{}', @now, 'pending', @now);
            SELECT last_insert_rowid();
            """, new { key = Guid.NewGuid().ToString("N"), verificationId, guild = long.Parse(Guild), wallet, now = Database.Format(_time.GetUtcNow()) });
        var inboxEvent = new InboxEvent { Id = eventId, VerificationId = verificationId, GuildId = ulong.Parse(Guild), WalletAddress = wallet };
        await _ledger.RecordGrantAsync(inboxEvent, (await _store.FindAsync(verificationId))!, ulong.Parse(userId), new Decision(Outcomes.Granted, "wallet verified; role assigned"), CancellationToken.None);
    }

    private async Task<IReadOnlyList<(string Outcome, string Reason)>> ExpiryDecisionsAsync()
    {
        await using var connection = await _db.Database.OpenAsync();
        return [.. await connection.QueryAsync<(string, string)>("SELECT outcome, reason FROM decisions WHERE outcome = 'revoked_reverify' ORDER BY id")];
    }

    private async Task<string> GrantStatusAsync(string userId, string verificationId = Id)
    {
        await using var connection = await _db.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<string>("SELECT status FROM role_grants WHERE verification_id = @verificationId AND user_id = @user",
            new { verificationId, user = long.Parse(userId) }) ?? "";
    }

    [Fact]
    public async Task The_role_is_removed_once_ReverifyAfter_has_passed_since_the_verification_and_not_before()
    {
        await VerifyAsync(Alice, "0x1111111111111111111111111111111111111111");
        var expiry = NewExpiry();

        _time.Advance(Period - TimeSpan.FromMinutes(1));
        var early = await expiry.RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, early.Removed);
        Assert.Equal(Start + Period, early.NextDue);
        Assert.Empty(_discord.RequestsTo("DELETE", RoleDeletes));
        Assert.Contains(Holder, _discord.GetMemberRoles(Guild, Alice));

        _time.Advance(TimeSpan.FromMinutes(1));
        var due = await expiry.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, due.Removed);
        Assert.Null(due.NextDue);
        var delete = Assert.Single(_discord.RequestsTo("DELETE", RoleDeletes));
        Assert.EndsWith($"/guilds/{Guild}/members/{Alice}/roles/{Holder}", delete.Path, StringComparison.Ordinal);
        var auditReason = Uri.UnescapeDataString(delete.Header("X-Audit-Log-Reason")!);
        Assert.Equal("WalverBot: verification wb_rv expired, last verified 2026-01-01, re-verify every 90 day(s) (wallet 0x1111…1111)", auditReason);
        Assert.DoesNotContain(Holder, _discord.GetMemberRoles(Guild, Alice));
        Assert.Contains(Holder, _discord.GetMemberRoles(Guild, Bob)); // never verified through wb_rv: not the bot's to take
        Assert.Equal("revoked", await GrantStatusAsync(Alice));
        var decision = Assert.Single(await ExpiryDecisionsAsync());
        Assert.Equal("not verified again within 90 day(s) (ReverifyAfter) of the last verification on 2026-01-01 12:00 UTC: role removed; verifying again gives it back", decision.Reason);

        // The log channel is told, in the same words the other notices use.
        var notice = Assert.Single(_notices.Notices, n => n.Decision.Outcome == Outcomes.RevokedReverify);
        Assert.Equal((ulong.Parse(Alice), Id), (notice.UserId!.Value, notice.VerificationId));
        Assert.True(AdminNoticeText.IsNotable(Outcomes.RevokedReverify));
        Assert.StartsWith($"⚠️ `revoked_reverify` for <@{Alice}> (wallet `0x1111…1111`) through `wb_rv`: not verified again", AdminNoticeText.Format(notice), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_verification_restarts_the_clock()
    {
        await VerifyAsync(Alice, "0x1111111111111111111111111111111111111111");
        _time.Advance(TimeSpan.FromDays(60));
        await VerifyAsync(Alice, "0x1111111111111111111111111111111111111111");
        var expiry = NewExpiry();

        _time.Advance(TimeSpan.FromDays(40)); // 100 days after the first verification, 40 after the last
        var pass = await expiry.RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, pass.Removed);
        Assert.Equal(Start + TimeSpan.FromDays(150), pass.NextDue);
        Assert.Empty(_discord.RequestsTo("DELETE", RoleDeletes));
        Assert.Equal("granted", await GrantStatusAsync(Alice));

        _time.Advance(TimeSpan.FromDays(50));
        Assert.Equal(1, (await expiry.RunOnceAsync(CancellationToken.None)).Removed);
        Assert.DoesNotContain(Holder, _discord.GetMemberRoles(Guild, Alice));
    }

    [Fact]
    public async Task A_restart_after_a_pass_removes_nothing_twice()
    {
        await VerifyAsync(Alice, "0x1111111111111111111111111111111111111111");
        _time.Advance(Period + TimeSpan.FromDays(1));
        Assert.Equal(1, (await NewExpiry().RunOnceAsync(CancellationToken.None)).Removed);

        // A new process: the state is the database's, so nothing is due any more.
        var again = await NewExpiry().RunOnceAsync(CancellationToken.None);

        Assert.Equal(new ReverifyPass(0, 0, 0, 0, null), again);
        Assert.Single(_discord.RequestsTo("DELETE", RoleDeletes));
        Assert.Single(await ExpiryDecisionsAsync());
        Assert.Single(_notices.Notices, n => n.Decision.Outcome == Outcomes.RevokedReverify);
    }

    [Fact]
    public async Task A_crash_between_the_removal_and_its_record_ends_with_one_decision()
    {
        await VerifyAsync(Alice, "0x1111111111111111111111111111111111111111");
        _time.Advance(Period + TimeSpan.FromDays(1));
        // The crashed pass: Discord removed the role, the process died before the row changed.
        await _services.GetRequiredService<IDiscordRestClient>().RemoveGuildMemberRoleAsync(ulong.Parse(Guild), ulong.Parse(Alice), ulong.Parse(Holder), "crashed pass", CancellationToken.None);
        Assert.Equal("granted", await GrantStatusAsync(Alice));

        var pass = await NewExpiry().RunOnceAsync(CancellationToken.None);
        var next = await NewExpiry().RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, pass.Removed); // Discord answers a removal of a role not held like any other
        Assert.Equal(0, next.Removed);
        Assert.Equal("revoked", await GrantStatusAsync(Alice));
        Assert.Single(await ExpiryDecisionsAsync());
        Assert.DoesNotContain(Holder, _discord.GetMemberRoles(Guild, Alice));
    }

    [Fact]
    public async Task A_role_another_verification_granted_too_is_kept_and_the_expiry_recorded()
    {
        await _store.UpsertAsync(Plain("wb_forever", null));
        await VerifyAsync(Alice, "0x1111111111111111111111111111111111111111");
        await VerifyAsync(Alice, "0x1111111111111111111111111111111111111111", "wb_forever");
        _time.Advance(Period + TimeSpan.FromDays(1));

        var pass = await NewExpiry().RunOnceAsync(CancellationToken.None);

        Assert.Equal((0, 1), (pass.Removed, pass.Kept));
        Assert.Empty(_discord.RequestsTo("DELETE", RoleDeletes));
        Assert.Contains(Holder, _discord.GetMemberRoles(Guild, Alice));
        Assert.Equal(("revoked", "granted"), (await GrantStatusAsync(Alice), await GrantStatusAsync(Alice, "wb_forever")));
        Assert.EndsWith("role kept, another verification granted it too", Assert.Single(await ExpiryDecisionsAsync()).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_who_left_is_recorded_as_gone()
    {
        await VerifyAsync(Bob, "0x2222222222222222222222222222222222222222");
        _discord.RemoveMember(Guild, Bob);
        _time.Advance(Period + TimeSpan.FromDays(1));

        var pass = await NewExpiry().RunOnceAsync(CancellationToken.None);

        Assert.Equal((0, 1), (pass.Removed, pass.Gone));
        Assert.Equal("revoked", await GrantStatusAsync(Bob));
        Assert.EndsWith("the member or role is no longer in the server", Assert.Single(await ExpiryDecisionsAsync()).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_Permissions_changes_nothing_and_a_later_pass_removes_the_role()
    {
        await VerifyAsync(Alice, "0x1111111111111111111111111111111111111111");
        _time.Advance(Period + TimeSpan.FromDays(1));
        _discord.InjectFault("DELETE", RoleDeletes, FakeFault.Status(403, """{"message":"Missing Permissions","code":50013}"""));

        var refused = await NewExpiry().RunOnceAsync(CancellationToken.None);

        Assert.Equal((0, 1), (refused.Removed, refused.Failed));
        Assert.True(refused.NextDue <= _time.GetUtcNow()); // still due: the worker tries again after its minimum wait
        Assert.Equal("granted", await GrantStatusAsync(Alice));
        Assert.Empty(await ExpiryDecisionsAsync());
        Assert.Contains(Holder, _discord.GetMemberRoles(Guild, Alice));

        Assert.Equal(1, (await NewExpiry().RunOnceAsync(CancellationToken.None)).Removed);
        Assert.DoesNotContain(Holder, _discord.GetMemberRoles(Guild, Alice));
    }

    [Fact]
    public async Task A_token_gated_verification_never_expires_by_time()
    {
        await _store.UpsertAsync(Plain(Id, Period) with { TokenAddress = "0x3333333333333333333333333333333333333333", MinAmount = 1 });
        await VerifyAsync(Alice, "0x1111111111111111111111111111111111111111");
        _time.Advance(Period * 2);

        Assert.Equal(new ReverifyPass(0, 0, 0, 0, null), await NewExpiry().RunOnceAsync(CancellationToken.None));
        Assert.Equal("granted", await GrantStatusAsync(Alice));
    }

    [Fact]
    public async Task The_worker_runs_a_pass_when_the_fake_clock_reaches_the_due_time()
    {
        await VerifyAsync(Alice, "0x1111111111111111111111111111111111111111");
        _time.Advance(Period - TimeSpan.FromMinutes(3));
        var services = new ServiceCollection();
        services.AddScoped(_ => NewExpiry());
        await using var provider = services.BuildServiceProvider();
        using var worker = new ReverifyWorker(provider, _time, NullLogger<ReverifyWorker>.Instance);
        await worker.StartAsync(CancellationToken.None);
        Assert.Contains(Holder, _discord.GetMemberRoles(Guild, Alice));

        // One step to the due time: the worker waits for an absolute time (ClockWaits.DelayUntilAsync), so its wake-up
        // fires whether the step comes before or after it set its timer.
        _time.Advance(TimeSpan.FromMinutes(3));
        // The role's absence, not the DELETE's arrival: the fake records a request before its handler removes the role.
        await Eventually.UntilAsync(() => !_discord.GetMemberRoles(Guild, Alice).Contains(Holder), "the worker's pass removing the expired role");

        await worker.StopAsync(CancellationToken.None);
        Assert.Equal(Start + Period, _time.GetUtcNow());
        Assert.Single(_discord.RequestsTo("DELETE", RoleDeletes));
    }

    private sealed class RecordingNotifier : IAdminNotifier
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<DecisionNotice> _notices = new();

        public IReadOnlyList<DecisionNotice> Notices => [.. _notices];

        public void DecisionRecorded(DecisionNotice notice) => _notices.Enqueue(notice);
    }
}
