using Dapper;
using WalverBot.Grants;
using WalverBot.Security;
using WalverBot.Storage;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.Http;
using WalverBot.Testing.FakeWalver;

namespace WalverBot.Tests.EndToEnd;

/// <summary>One bad event, or one bad answer from Discord, never stalls the others and never fails a grant for good.</summary>
public sealed class WorkerFailSafeTests : IAsyncLifetime
{
    private const string OtherGuildId = "1200000000000000002";
    private const string OtherRoleId = "1300000000000000020";
    private const string OtherBotRoleId = "1300000000000000060";
    private const string OtherVerificationId = "wb_other_guild";
    private const string OtherSecret = "other-guild-secret-0123456789abcdef";
    private const int OtherMembers = 4;

    /// <summary>The first internal error's retry delay at its shortest: 2 s less 20 % jitter (<see cref="RetryDelay"/>).</summary>
    private static readonly TimeSpan MinimumFirstBackoff = TimeSpan.FromSeconds(1.6);

    private readonly ThrowingVerifier _verifier = new(BotScenario.VerificationId);
    private BotScenario _bot = null!;

    public async Task InitializeAsync()
    {
        _bot = await BotScenario.StartAsync(new Dictionary<string, string?>
        {
            ["Verifications:1:Id"] = OtherVerificationId,
            ["Verifications:1:GuildId"] = OtherGuildId,
            ["Verifications:1:RoleId"] = OtherRoleId,
            ["Verifications:1:Secret"] = OtherSecret,
            ["Verifications:1:Chain"] = "ethereum",
            // Every test wallet is the same key; one wallet, one member would refuse all but the first member.
            ["Grants:OneMemberPerWallet"] = "false",
            // Faults are injected into Discord's member search; with the directory the members would need none.
            ["Discord:MemberDirectory"] = "false",
        }, startBot: false);
        _bot.Discord.AddGuild(OtherGuildId, "Other Guild");
        _bot.Discord.AddRole(OtherGuildId, new FakeRole(OtherRoleId, "Member", 1, FakeDiscordPermissions.Of(FakeDiscordPermissions.ViewChannel)));
        _bot.Discord.AddRole(OtherGuildId, new FakeRole(OtherBotRoleId, "WalverBot", 5, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles), Managed: true));
        _bot.Discord.SetBotRoles(OtherGuildId, OtherBotRoleId);
        for (var i = 0; i < OtherMembers; i++)
        {
            _bot.Discord.AddMember(OtherGuildId, new FakeMember(OtherMemberId(i), $"member{i}"));
        }

        // The verifier throws for every delivery of the first guild's verification, as a bug would.
        _bot.Configure = builder => builder.Services.AddSingleton<IWalletSignatureVerifier>(_verifier);
        await _bot.StartBotAsync();
    }

    public async Task DisposeAsync() => await _bot.DisposeAsync();

    private static string OtherMemberId(int i) => $"14000000000000001{i:00}";

    private static FakeWalverWebhook OtherGuildWebhook(int i) =>
        FakeWalverWebhook.For(OtherVerificationId).WithDiscord($"member{i}").WithSecret(OtherSecret).Signed();

    [Fact]
    public async Task A_verifier_that_throws_for_one_event_does_not_stop_the_other_guilds_grants()
    {
        Assert.Equal(200, (await _bot.SendAsync(_bot.Webhook())).Status);
        await WaitForEventAsync(BotScenario.VerificationId, e => e.InternalErrors == 1, "the first internal error");
        for (var i = 0; i < OtherMembers; i++)
        {
            Assert.Equal(200, (await _bot.SendAsync(OtherGuildWebhook(i))).Status);
        }

        for (var i = 0; i < OtherMembers; i++)
        {
            var member = OtherMemberId(i);
            await WithDiagnosticsAsync(() => _bot.Discord.WaitUntilAsync(d => d.GetMemberRoles(OtherGuildId, member).Contains(OtherRoleId), TimeSpan.FromSeconds(15), $"the role for {member}"));
        }

        // The failing event is counted and rescheduled, not lost and not spun on. However slow the machine (its first
        // retry is due 1.6-2.4 s after the first error, and may well come while the other guild is granted), each try is
        // one counted internal error, and tries are at least the first backoff apart.
        var failing = await EventAsync(BotScenario.VerificationId);
        var tries = _verifier.Throws;
        Assert.Equal("pending", failing.Status);
        Assert.InRange(failing.InternalErrors, 1, GrantProcessor.MaxInternalErrors - 1);
        Assert.Equal(failing.InternalErrors, failing.Attempts);
        Assert.InRange(tries.Count, failing.InternalErrors, failing.InternalErrors + 1); // one more may be under way
        Assert.All(tries.Zip(tries.Skip(1)), pair => Assert.True(pair.Second - pair.First >= MinimumFirstBackoff,
            $"tries {pair.First.TotalSeconds:F2} s and {pair.Second.TotalSeconds:F2} s are closer than the backoff"));
        Assert.Matches("^internal error [0-9a-f]{8} \\(InvalidOperationException\\)$", failing.LastError);
        Assert.Equal(0, _bot.RolePuts(BotScenario.AliceId));
    }

    [Fact]
    public async Task After_a_bounded_number_of_internal_errors_the_event_is_finished_as_internal_error_with_an_error_id()
    {
        Assert.Equal(200, (await _bot.SendAsync(_bot.Webhook())).Status);
        // The committed reschedule, not the log line written just before it: an UPDATE between the two would be overwritten.
        await WaitForEventAsync(BotScenario.VerificationId, e => e.InternalErrors >= 1, "the first internal error");
        // Skip the middle of the backoff (2, 4, 8, 16 s): the event is one failure away from the bound, and due now.
        await ExecuteAsync($"UPDATE webhook_events SET internal_errors = {GrantProcessor.MaxInternalErrors - 1}, next_attempt_at = '2000-01-01T00:00:00.0000000+00:00'");
        _bot.Services.GetRequiredService<GrantSignal>().Notify();

        var decision = await Inbox.WaitForDecisionAsync(_bot, Outcomes.InternalError);
        await WithDiagnosticsAsync(async () => Assert.Contains(_bot.Logs.Lines, l => l.Contains("giving up", StringComparison.Ordinal)));

        var errorId = System.Text.RegularExpressions.Regex.Match(decision.Reason, "error id ([0-9a-f]{8})").Groups[1].Value;
        Assert.NotEmpty(errorId);
        Assert.Contains(_bot.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("internal error", StringComparison.Ordinal) && l.Contains(errorId, StringComparison.Ordinal)
            && l.Contains("giving up", StringComparison.Ordinal) && l.Contains("verifier exploded", StringComparison.Ordinal));
        Assert.DoesNotContain("verifier exploded", decision.Reason, StringComparison.Ordinal);
        var finished = await EventAsync(BotScenario.VerificationId);
        Assert.Equal("failed", finished.Status);
        Assert.Equal(GrantProcessor.MaxInternalErrors - 1, finished.InternalErrors);
        Assert.Contains(errorId, finished.LastError, StringComparison.Ordinal);
        Assert.Equal(0, _bot.RolePuts(BotScenario.AliceId));
    }

    [Fact]
    public async Task A_garbled_success_from_Discord_is_retried_and_the_role_is_granted()
    {
        _bot.Discord.InjectFault("GET", "/guilds/*/members/search", FakeFault.Status(200, "<html><body>Checking your browser…</body></html>", "text/html"));

        Assert.Equal(200, (await _bot.SendAsync(OtherGuildWebhook(0))).Status);

        await _bot.Discord.WaitUntilAsync(d => d.GetMemberRoles(OtherGuildId, OtherMemberId(0)).Contains(OtherRoleId), TimeSpan.FromSeconds(15), "the role after the garbled answer");
        Assert.Equal(2, _bot.Discord.RequestsTo("GET", "/guilds/*/members/search").Count);
        Assert.DoesNotContain(await Inbox.DecisionsAsync(_bot), d => d.Outcome == Outcomes.DiscordError);
    }

    [Fact]
    public async Task A_rejected_token_parks_the_grant_instead_of_failing_it_and_the_restart_grants_it()
    {
        // A token reset while the gateway session still runs: the role PUT is the first call to learn of it.
        _bot.Discord.InjectFault("PUT", "/guilds/*/members/*/roles/*", FakeFault.Status(401, """{"message": "401: Unauthorized", "code": 0}"""));

        Assert.Equal(200, (await _bot.SendAsync(OtherGuildWebhook(0))).Status);

        var parked = await WaitForEventAsync(OtherVerificationId, e => e.Attempts > 0, "the parked attempt");

        Assert.Equal("pending", parked.Status);
        Assert.Contains("Discord:Token", parked.LastError, StringComparison.Ordinal);
        Assert.DoesNotContain(await Inbox.DecisionsAsync(_bot), d => d.Outcome == Outcomes.DiscordError);

        // The operator fixes the token and restarts: the parked grant goes through.
        await _bot.StopBotAsync();
        await _bot.StartBotAsync();
        await ExecuteAsync("UPDATE webhook_events SET next_attempt_at = '2000-01-01T00:00:00.0000000+00:00' WHERE status = 'pending'");
        _bot.Services.GetRequiredService<GrantSignal>().Notify();
        await WithDiagnosticsAsync(() => _bot.Discord.WaitUntilAsync(d => d.GetMemberRoles(OtherGuildId, OtherMemberId(0)).Contains(OtherRoleId), TimeSpan.FromSeconds(15), "the role after the restart"));
        Assert.Equal(2, _bot.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*").Count);
    }

    [Fact]
    public async Task An_absurd_retry_after_reschedules_the_event_within_an_hour_instead_of_failing_every_pass()
    {
        _bot.Discord.InjectFault("PUT", "/guilds/*/members/*/roles/*", FakeFault.RateLimited(1e12, "shared"));

        Assert.Equal(200, (await _bot.SendAsync(OtherGuildWebhook(0))).Status);

        await WaitForLogAsync("retrying in 01:00:00");
        // The line is written just before the new schedule is stored.
        var limited = await WaitForEventAsync(OtherVerificationId, e => e.Attempts > 0, "the rescheduled attempt");

        Assert.Equal("pending", limited.Status);
        Assert.Contains("rate limited", limited.LastError, StringComparison.Ordinal);
        Assert.DoesNotContain(_bot.Logs.Lines, l => l.Contains("failed a pass over the inbox", StringComparison.Ordinal));
    }

    private async Task WithDiagnosticsAsync(Func<Task> check)
    {
        try
        {
            await check();
        }
        catch (Exception ex)
        {
            var decisions = string.Join("; ", (await Inbox.DecisionsAsync(_bot)).Select(d => $"{d.Outcome}: {d.Reason}"));
            var lines = string.Join("\n", _bot.Logs.Lines.Where(l => !l.StartsWith("Debug", StringComparison.Ordinal)).TakeLast(40));
            throw new Xunit.Sdk.XunitException($"{ex.Message}\ndecisions: [{decisions}]\nlog:\n{lines}");
        }
    }

    private Task WaitForLogAsync(string text) => _bot.Logs.WaitForLineAsync(text);

    /// <summary>Polls the first event of a verification until its stored row shows <paramref name="done"/>.</summary>
    private Task<EventRow> WaitForEventAsync(string verificationId, Func<EventRow, bool> done, string what) =>
        Eventually.UntilAsync(() => EventAsync(verificationId), done, $"{what} to be stored", describe: row => $"status {row.Status}, attempts {row.Attempts}");

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await _bot.Services.GetRequiredService<Database>().OpenAsync();
        await connection.ExecuteAsync(sql);
    }

    private async Task<EventRow> EventAsync(string verificationId)
    {
        await using var connection = await _bot.Services.GetRequiredService<Database>().OpenAsync();
        return await connection.QuerySingleAsync<EventRow>(
            "SELECT status, attempts, internal_errors AS InternalErrors, COALESCE(last_error, '') AS LastError FROM webhook_events WHERE verification_id = @verificationId ORDER BY id LIMIT 1",
            new { verificationId });
    }

    private sealed record EventRow
    {
        public string Status { get; init; } = "";
        public int Attempts { get; init; }
        public int InternalErrors { get; init; }
        public string LastError { get; init; } = "";
    }

    /// <summary>The real verifier, except that it throws for one verification's deliveries.</summary>
    private sealed class ThrowingVerifier(string verificationId) : IWalletSignatureVerifier
    {
        private readonly WalletSignatureVerifier _real = new();
        private readonly System.Collections.Concurrent.ConcurrentQueue<TimeSpan> _throws = new();
        private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();

        /// <summary>When each throw happened, from this verifier's creation, in order.</summary>
        public IReadOnlyList<TimeSpan> Throws => [.. _throws];

        public SignatureCheck Verify(string? chain, string? walletAddress, string? message, string? signature)
        {
            if (message?.Contains(verificationId, StringComparison.Ordinal) == true)
            {
                _throws.Enqueue(System.Diagnostics.Stopwatch.GetElapsedTime(_started));
                throw new InvalidOperationException("verifier exploded");
            }

            return _real.Verify(chain, walletAddress, message, signature);
        }
    }
}
