using WalverBot.Grants;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.Http;
using WalverBot.Testing.FakeWalver;

namespace WalverBot.Tests.EndToEnd;

/// <summary>From an accepted webhook to the role PUT seen by (fake) Discord, and every way it can go wrong.</summary>
public sealed class GrantFlowTests : IAsyncLifetime
{
    private const string TokenAddress = "0x1111111111111111111111111111111111111111";
    private BotScenario _bot = null!;

    public async Task InitializeAsync() => _bot = await BotScenario.StartAsync(new Dictionary<string, string?>
    {
        ["Verifications:1:Id"] = "wb_gated",
        ["Verifications:1:GuildId"] = BotScenario.GuildId,
        ["Verifications:1:RoleId"] = BotScenario.HolderRoleId,
        ["Verifications:1:Secret"] = "gated-secret",
        ["Verifications:1:Chain"] = "ethereum",
        ["Verifications:1:TokenAddress"] = TokenAddress,
        ["Verifications:1:MinAmount"] = "100",
    });

    public async Task DisposeAsync() => await _bot.DisposeAsync();

    private FakeWalverWebhook Gated(string discord = "alice") =>
        FakeWalverWebhook.For("wb_gated").WithDiscord(discord).WithSecret("gated-secret").Signed();

    [Fact]
    public async Task The_typed_username_gets_the_role_with_an_audit_reason()
    {
        await _bot.SendAsync(_bot.Webhook("Alice"));

        await _bot.WaitForRolePutsAsync(BotScenario.AliceId);
        var put = Assert.Single(_bot.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*"));
        Assert.Equal($"Bot {_bot.Discord.Token}", put.Headers["Authorization"]);
        Assert.StartsWith("DiscordBot (", put.Headers["User-Agent"]);
        var reason = Uri.UnescapeDataString(put.Headers["X-Audit-Log-Reason"]);
        Assert.Contains(BotScenario.VerificationId, reason, StringComparison.Ordinal);
        Assert.Contains(TestWallets.EvmAddress[..6], reason, StringComparison.Ordinal);
        Assert.DoesNotContain(TestWallets.EvmAddress, reason, StringComparison.Ordinal);
        Assert.Contains(BotScenario.HolderRoleId, _bot.Discord.GetMemberRoles(BotScenario.GuildId, BotScenario.AliceId));
        await Inbox.WaitForDecisionAsync(_bot, Outcomes.Granted);
    }

    [Theory]
    [InlineData("@alice")]
    [InlineData("alice#1234")]
    [InlineData("1400000000000000001")]
    [InlineData("<@1400000000000000001>")]
    public async Task Every_documented_form_of_the_name_finds_the_member(string typed)
    {
        await _bot.SendAsync(_bot.Webhook(typed));

        await _bot.WaitForRolePutsAsync(BotScenario.AliceId);
        Assert.Equal(0, _bot.RolePuts(BotScenario.BobId));
    }

    [Fact]
    public async Task A_delivery_sent_many_times_assigns_the_role_once()
    {
        var webhook = _bot.Webhook();
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _bot.SendAsync(webhook)));

        Assert.All(answers, a => Assert.Equal(200, a.Status));
        Assert.Single(answers, a => a.Json!["status"]!.GetValue<string>() == "accepted");
        await _bot.WaitForRolePutsAsync(BotScenario.AliceId);
        await Inbox.WaitForDecisionAsync(_bot, Outcomes.Granted);
        _bot.AssertOneRolePut(BotScenario.AliceId);
    }

    [Fact]
    public async Task A_token_check_that_did_not_pass_grants_nothing()
    {
        await _bot.SendAsync(Gated().WithToken(TokenAddress, 100, 5, passed: false));

        var decision = await Inbox.WaitForDecisionAsync(_bot, Outcomes.NotPassed);
        Assert.Contains("does not hold enough", decision.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _bot.RolePuts(BotScenario.AliceId));
    }

    [Fact]
    public async Task A_check_of_another_token_or_a_smaller_amount_grants_nothing()
    {
        await _bot.SendAsync(Gated().WithToken("0x2222222222222222222222222222222222222222", 100, 500, passed: true));
        await _bot.SendAsync(Gated().WithToken(TokenAddress, 1, 500, passed: true));

        await Inbox.WaitForDecisionAsync(_bot, Outcomes.TokenMismatch);
        await WaitForDecisionCountAsync(Outcomes.TokenMismatch, 2);
        Assert.Equal(0, _bot.RolePuts(BotScenario.AliceId));
    }

    [Fact]
    public async Task A_token_check_that_passed_grants()
    {
        await _bot.SendAsync(Gated().WithToken(TokenAddress.ToUpperInvariant().Replace("0X", "0x"), 100, 150, passed: true));

        await _bot.WaitForRolePutsAsync(BotScenario.AliceId);
    }

    [Fact]
    public async Task A_gated_verification_without_a_token_check_grants_nothing()
    {
        await _bot.SendAsync(Gated());

        await Inbox.WaitForDecisionAsync(_bot, Outcomes.NotPassed);
        Assert.Equal(0, _bot.RolePuts(BotScenario.AliceId));
    }

    [Theory]
    [InlineData("")]
    [InlineData("ali\u0007ce")]
    [InlineData("x")]
    public async Task Hostile_usernames_grant_nothing_and_say_why(string typed)
    {
        var response = await _bot.SendAsync(_bot.Webhook(typed));

        Assert.Equal(200, response.Status);
        await Inbox.WaitForDecisionAsync(_bot, Outcomes.InvalidUsername);
        Assert.Empty(_bot.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*"));
    }

    [Fact]
    public async Task A_delivery_without_custom_fields_grants_nothing_and_says_why()
    {
        var response = await _bot.SendAsync(_bot.Webhook() with { CustomFields = new Dictionary<string, string?>() });

        Assert.Equal(200, response.Status);
        var decision = await Inbox.WaitForDecisionAsync(_bot, Outcomes.InvalidUsername);
        Assert.Contains("no Discord username", decision.Reason, StringComparison.Ordinal);
        Assert.Empty(_bot.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*"));
    }

    [Fact]
    public async Task A_500_character_username_grants_nothing()
    {
        await _bot.SendAsync(_bot.Webhook(new string('a', 500)));

        await Inbox.WaitForDecisionAsync(_bot, Outcomes.InvalidUsername);
        Assert.Empty(_bot.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*"));
    }

    [Fact]
    public async Task A_name_that_only_prefixes_two_members_grants_nothing()
    {
        _bot.Discord.AddMember(BotScenario.GuildId, new FakeMember("1400000000000000011", "carol1"));
        _bot.Discord.AddMember(BotScenario.GuildId, new FakeMember("1400000000000000012", "carol2"));

        await _bot.SendAsync(_bot.Webhook("carol"));

        await Inbox.WaitForDecisionAsync(_bot, Outcomes.PendingMember);
        Assert.Empty(_bot.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*"));
    }

    [Fact]
    public async Task A_nickname_never_stands_for_a_username()
    {
        // Bob's nickname is "alice" in this guild; only Alice's account may get the role.
        await _bot.SendAsync(_bot.Webhook("alice"));

        await _bot.WaitForRolePutsAsync(BotScenario.AliceId);
        Assert.Equal(0, _bot.RolePuts(BotScenario.BobId));
    }

    [Fact]
    public async Task A_forged_signature_grants_nothing()
    {
        var forged = _bot.Webhook() with { Message = "Walver verification wb_test_1 for someone else entirely" };

        await _bot.SendAsync(forged);

        var decision = await Inbox.WaitForDecisionAsync(_bot, Outcomes.RejectedSignature);
        Assert.Contains("signature", decision.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _bot.RolePuts(BotScenario.AliceId));
    }

    [Fact]
    public async Task One_wallet_cannot_grant_roles_to_a_second_member()
    {
        await _bot.SendAsync(_bot.Webhook("alice"));
        await _bot.WaitForRolePutsAsync(BotScenario.AliceId);

        await _bot.SendAsync(_bot.Webhook("bob"));

        var decision = await Inbox.WaitForDecisionAsync(_bot, Outcomes.WalletConflict);
        Assert.Contains(BotScenario.AliceId, decision.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _bot.RolePuts(BotScenario.BobId));
    }

    [Fact]
    public async Task A_role_moved_above_the_bot_is_refused_with_advice_for_the_admin()
    {
        // An admin drags Holder above the bot's role; the gateway tells the bot (GUILD_ROLE_UPDATE).
        _bot.Discord.AddRole(BotScenario.GuildId, new FakeRole(BotScenario.HolderRoleId, "Holder", 9));
        await _bot.Gateway.DispatchAsync("GUILD_ROLE_UPDATE", $$$"""
            {"guild_id":"{{{BotScenario.GuildId}}}","role":{"id":"{{{BotScenario.HolderRoleId}}}","name":"Holder","color":0,"hoist":false,
             "position":9,"permissions":"1024","managed":false,"mentionable":false,"flags":0}}
            """);
        await _bot.WaitForRoleCacheAsync(BotScenario.HolderRoleId, position: 9);

        await _bot.SendAsync(_bot.Webhook());

        var decision = await Inbox.WaitForDecisionAsync(_bot, Outcomes.RoleUnsafe);
        Assert.Contains("bot's highest role", decision.Reason, StringComparison.Ordinal);
        Assert.Contains(_bot.Logs.Lines, l => l.Contains("cannot grant role", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Discord_refusing_with_50013_is_recorded_with_advice()
    {
        _bot.Discord.InjectFault("PUT", "/guilds/*/members/*/roles/*", FakeFault.Status(403, """{"message":"Missing Permissions","code":50013}"""));

        await _bot.SendAsync(_bot.Webhook());

        var decision = await Inbox.WaitForDecisionAsync(_bot, Outcomes.DiscordError);
        Assert.Contains("Manage Roles", decision.Reason, StringComparison.Ordinal);
        Assert.Contains(_bot.Logs.Lines, l => l.Contains("Missing Permissions", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Server_errors_and_429s_are_retried_until_the_role_is_assigned()
    {
        _bot.Discord.InjectFault("PUT", "/guilds/*/members/*/roles/*", FakeFault.Status(500, """{"message":"Internal Server Error","code":0}"""));
        _bot.Discord.InjectFault("PUT", "/guilds/*/members/*/roles/*", FakeFault.RateLimited(0.2, "user"));

        await _bot.SendAsync(_bot.Webhook());

        await Inbox.WaitForDecisionAsync(_bot, Outcomes.Granted);
        Assert.Contains(BotScenario.HolderRoleId, _bot.Discord.GetMemberRoles(BotScenario.GuildId, BotScenario.AliceId));
    }

    [Fact]
    public async Task Secrets_and_tokens_never_reach_the_logs_or_the_database()
    {
        await _bot.SendAsync(_bot.Webhook());
        await _bot.SendAsync(_bot.Webhook() with { Secret = "wrong-secret-value" });
        await Inbox.WaitForDecisionAsync(_bot, Outcomes.Granted);
        await _bot.StopBotAsync();

        Assert.DoesNotContain(BotScenario.Secret, _bot.Logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret-value", _bot.Logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain(_bot.Discord.Token, _bot.Logs.All, StringComparison.Ordinal);
        var database = await File.ReadAllBytesAsync(_bot.DatabasePath);
        var text = System.Text.Encoding.UTF8.GetString(database) + System.Text.Encoding.UTF8.GetString(
            File.Exists(_bot.DatabasePath + "-wal") ? await File.ReadAllBytesAsync(_bot.DatabasePath + "-wal") : []);
        Assert.DoesNotContain(BotScenario.Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("gated-secret", text, StringComparison.Ordinal);
    }

    private Task WaitForDecisionCountAsync(string outcome, int count) =>
        Eventually.UntilAsync(
            () => Inbox.DecisionsAsync(_bot), all => all.Count(d => d.Outcome == outcome) >= count, $"{count} '{outcome}' decision(s)",
            describe: all => $"decisions [{string.Join("; ", all.Select(d => $"{d.Outcome}: {d.Reason}"))}]");
}
