using System.Text.Json.Nodes;
using WalverBot.Commands;
using WalverBot.Grants;
using WalverBot.Tests.Commands;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.Http;
using static WalverBot.Tests.Commands.CommandScenario;

namespace WalverBot.Tests.EndToEnd;

/// <summary>The other /walver subcommands, /verify and autocomplete, end to end over the fake gateway and REST.</summary>
[LongRunning(30)]
public sealed class CommandsAdminTests : IAsyncLifetime
{
    private const string AboveBotRoleId = "1300000000000000060";
    private const string AdminsRoleId = "1300000000000000030";
    private const string MutedChannelId = "1500000000000000002";
    private const string Url = "https://walver.io/verify/dashboard-made";

    private CommandScenario _s = null!;

    public async Task InitializeAsync() => _s = await CommandScenario.StartAsync(seed: discord =>
    {
        discord.AddRole(GuildId, new FakeRole(AboveBotRoleId, "Whale", 6));
        discord.AddRole(GuildId, new FakeRole(AdminsRoleId, "Admins", 3, FakeDiscordPermissions.Of(FakeDiscordPermissions.Administrator)));
        discord.AddChannel(new FakeChannel(MutedChannelId, GuildId, "announcements", BotCanSend: false));
    });

    public async Task DisposeAsync() => await _s.DisposeAsync();

    public static TheoryData<string, string> UnsafeRoles => new()
    {
        { GuildId, "@everyone" },
        { BotScenario.BotRoleId, "managed by an integration" },
        { AboveBotRoleId, "not below the bot's highest role" },
        { AdminsRoleId, "dangerous permissions" },
    };

    [Theory]
    [MemberData(nameof(UnsafeRoles))]
    public async Task Unsafe_roles_are_refused_before_Walver_is_called(string roleId, string reason)
    {
        var answer = await _s.AskAsync(AdminId, Create(roleId));

        Assert.Contains(reason, answer.Content, StringComparison.Ordinal);
        Assert.Contains("Nothing was created", answer.Content, StringComparison.Ordinal);
        Assert.Empty(_s.Walver.Requests);

        var link = await _s.AskAsync(AdminId, Link("dash-1", roleId));
        Assert.Contains(reason, link.Content, StringComparison.Ordinal);
        Assert.DoesNotContain("dash-1", (await _s.AskAsync(AdminId, Slash("list"))).Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commands_are_registered_once_with_permissions_contexts_and_choices()
    {
        await _s.Discord.WaitForRequestAsync("PUT", "/applications/*/commands");
        var commands = _s.Discord.RegisteredCommands()!;

        var walver = commands.Single(c => c!["name"]!.GetValue<string>() == "walver")!;
        Assert.Equal("268435456", walver["default_member_permissions"]!.GetValue<string>());
        Assert.Equal([0], walver["contexts"]!.AsArray().Select(c => c!.GetValue<int>()));
        var subcommands = walver["options"]!.AsArray().Select(o => o!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["create", "link", "list", "post", "disable", "enable", "status", "revoke", "log-channel", "tiers", "recheck", "holders"], subcommands);
        var create = walver["options"]!.AsArray().Single(o => o!["name"]!.GetValue<string>() == "create")!;
        var chain = create["options"]!.AsArray().Single(o => o!["name"]!.GetValue<string>() == "chain")!;
        Assert.Equal(["arbitrum", "avalanche", "base", "bsc", "ethereum", "optimism", "polygon", "solana"],
            chain["choices"]!.AsArray().Select(c => c!["value"]!.GetValue<string>()).Order());
        Assert.True(chain["required"]!.GetValue<bool>());
        var expiry = create["options"]!.AsArray().Single(o => o!["name"]!.GetValue<string>() == "expires_in_days")!;
        Assert.Equal(1, expiry["min_value"]!.GetValue<int>());
        Assert.Equal(365, expiry["max_value"]!.GetValue<int>());
        var disable = walver["options"]!.AsArray().Single(o => o!["name"]!.GetValue<string>() == "disable")!;
        Assert.True(disable["options"]![0]!["autocomplete"]!.GetValue<bool>());

        var verify = commands.Single(c => c!["name"]!.GetValue<string>() == "verify")!;
        Assert.Null(verify["default_member_permissions"]);

        // A restart with the same definitions does not register again. (The hash is saved once Discord has answered
        // the PUT; a stop before that rightly registers again, so wait for the save's log line first.)
        await WaitForLogAsync("Registered");
        await _s.Bot.StopBotAsync();
        await _s.Bot.StartBotAsync();
        // The restarted bot's IDENTIFY comes within Discord's 5 s of the first session's, so it is answered op 9 and
        // tried again after Discord's "random amount of time between 1 and 5 seconds" (gateway#invalid-session); a retry
        // that still lands inside the 5 s gets op 9 once more. READY can so take up to 10 s plus the restart: a loaded
        // run timed out at the default 10 s.
        await _s.Bot.Gateway.WaitForReadyAsync(2, TimeSpan.FromSeconds(30));
        await WaitForLogAsync("are up to date");
        Assert.Single(_s.Discord.RequestsTo("PUT", "/applications/*/commands"));
        Assert.Empty(_s.Discord.RequestsTo("PUT", "/applications/*/guilds/*/commands"));
    }

    [Fact]
    public async Task Verify_is_private_and_says_when_no_link_is_known_yet()
    {
        // The scenario declares a verification without a Url: it is set up, only its link is unknown.
        var none = await _s.AskAsync(BotScenario.BobId, Verify());
        Assert.Equal(4, none.Callback.Type);
        Assert.True(none.IsEphemeral);
        Assert.Equal(VerifyHandler.NoLinkYet, none.Content);

        await _s.AskAsync(AdminId, Link("dashboard-made", BotScenario.HolderRoleId, Url));
        var some = await _s.AskAsync(BotScenario.BobId, Verify());

        Assert.True(some.IsEphemeral);
        Assert.Contains(Url, some.Content, StringComparison.Ordinal);
        Assert.Contains("bob", some.Content, StringComparison.Ordinal);
        Assert.Contains(some.Buttons, b => b["url"]?.GetValue<string>() == Url && b["style"]?.GetValue<int>() == 5);
    }

    [Fact]
    public async Task A_declared_verification_with_a_Url_is_offered_by_verify_and_post()
    {
        const string declaredUrl = "https://walver.io/verify/declared-in-config";
        await using var s = await CommandScenario.StartAsync(new Dictionary<string, string?> { ["Verifications:0:Url"] = declaredUrl });

        var verify = await s.AskAsync(BotScenario.BobId, Verify());
        Assert.True(verify.IsEphemeral);
        Assert.Contains(declaredUrl, verify.Content, StringComparison.Ordinal);
        Assert.Contains(verify.Buttons, b => b["url"]?.GetValue<string>() == declaredUrl);

        await s.AskAsync(AdminId, Slash("post", Text("verification", BotScenario.VerificationId), Channel("channel", ChannelId)),
            c => c.Contains("Posted", StringComparison.Ordinal));
        var post = Assert.Single(s.Discord.RequestsTo("POST", $"/channels/{ChannelId}/messages"));
        Assert.Equal(declaredUrl, JsonNode.Parse(post.Body)!["components"]![0]!["components"]![0]!["url"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_linked_verification_grants_and_shows_in_list_and_status()
    {
        var link = await _s.AskAsync(AdminId, Link("dashboard-made", BotScenario.HolderRoleId, Url));
        Assert.Contains("Linked", link.Content, StringComparison.Ordinal);
        Assert.Contains("https://bot.example.test/webhooks/walver", link.Content, StringComparison.Ordinal);

        await _s.Bot.SendAsync(Testing.FakeWalver.FakeWalverWebhook.For("dashboard-made").WithDiscord("alice").WithSecret(LinkSecret).Signed());
        await _s.Bot.WaitForRolePutsAsync(BotScenario.AliceId);
        await Inbox.WaitForDecisionAsync(_s.Bot, Outcomes.Granted);

        var list = await _s.AskAsync(AdminId, Slash("list"));
        Assert.Contains("`dashboard-made`", list.Content, StringComparison.Ordinal);
        Assert.Matches(@"dashboard-made.*granted 1, pending 0, rejected 0", list.Content);

        var status = await _s.AskAsync(AdminId, Slash("status", User("member", BotScenario.AliceId)));
        Assert.Contains(TestWallets.EvmAddress.ToLowerInvariant(), status.Content, StringComparison.Ordinal);
        Assert.Contains($"<@&{BotScenario.HolderRoleId}> via `dashboard-made`, granted <t:", status.Content, StringComparison.Ordinal);
        Assert.Contains("`granted`", status.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disable_with_remove_roles_removes_granted_roles_and_refuses_further_webhooks()
    {
        await _s.Bot.SendAsync(_s.Bot.Webhook("alice"));
        await _s.Bot.WaitForRolePutsAsync(BotScenario.AliceId);
        await Inbox.WaitForDecisionAsync(_s.Bot, Outcomes.Granted);

        var interaction = await _s.RunAsync(AdminId, Slash("disable", Text("verification", BotScenario.VerificationId), Flag("remove_roles", true)));
        var answer = await _s.AnswerAsync(interaction, c => c.Contains("Removed", StringComparison.Ordinal));

        Assert.Equal(5, answer.Callback.Type);
        Assert.True(answer.IsEphemeral);
        Assert.Contains("Removed 1 role(s)", answer.Content, StringComparison.Ordinal);
        var delete = Assert.Single(_s.Discord.RoleChanges, c => c.Method == "DELETE");
        Assert.Equal(BotScenario.AliceId, delete.UserId);
        Assert.Contains(BotScenario.VerificationId, delete.AuditLogReason, StringComparison.Ordinal);
        Assert.DoesNotContain(BotScenario.HolderRoleId, _s.Discord.GetMemberRoles(GuildId, BotScenario.AliceId));

        var refused = await _s.Bot.SendAsync(_s.Bot.Webhook("bob"));
        Assert.Equal(404, refused.Status);
        var status = await _s.AskAsync(AdminId, Slash("status", User("member", BotScenario.AliceId)));
        Assert.Contains("`revoked`", status.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disable_without_remove_roles_keeps_the_roles()
    {
        await _s.Bot.SendAsync(_s.Bot.Webhook("alice"));
        await _s.Bot.WaitForRolePutsAsync(BotScenario.AliceId);

        var answer = await _s.AskAsync(AdminId, Slash("disable", Text("verification", BotScenario.VerificationId)));

        Assert.Contains("Disabled", answer.Content, StringComparison.Ordinal);
        Assert.Contains("remove_roles", answer.Content, StringComparison.Ordinal);
        Assert.DoesNotContain(_s.Discord.RoleChanges, c => c.Method == "DELETE");
        Assert.Contains("⚪", (await _s.AskAsync(AdminId, Slash("list"))).Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enable_undoes_disable_and_webhooks_grant_again()
    {
        await _s.AskAsync(AdminId, Slash("disable", Text("verification", BotScenario.VerificationId)));
        Assert.Equal(404, (await _s.Bot.SendAsync(_s.Bot.Webhook("alice"))).Status);

        var enabled = await _s.AskAsync(AdminId, Slash("enable", Text("verification", BotScenario.VerificationId)));
        var again = await _s.AskAsync(AdminId, Slash("enable", Text("verification", BotScenario.VerificationId)));

        Assert.True(enabled.IsEphemeral);
        Assert.Contains($"Enabled `{BotScenario.VerificationId}`", enabled.Content, StringComparison.Ordinal);
        Assert.Contains("already enabled", again.Content, StringComparison.Ordinal);
        Assert.Equal(200, (await _s.Bot.SendAsync(_s.Bot.Webhook("alice"))).Status);
        await _s.Bot.WaitForRolePutsAsync(BotScenario.AliceId);
        Assert.Contains("🟢", (await _s.AskAsync(AdminId, Slash("list"))).Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enable_suggests_only_disabled_verifications()
    {
        await _s.AskAsync(AdminId, Link("dashboard-made", BotScenario.HolderRoleId, Url));
        await _s.AskAsync(AdminId, Link("dashboard-other", BotScenario.HolderRoleId, Url));
        await _s.AskAsync(AdminId, Slash("disable", Text("verification", "dashboard-other")));
        var data = Slash("enable", Text("verification", "dash"));
        data["options"]![0]!["options"]![0]!["focused"] = true;

        var interaction = _s.Discord.CreateAutocompleteInteraction(GuildId, ChannelId, AdminId, data);
        await _s.Bot.Gateway.DispatchAsync("INTERACTION_CREATE", interaction.Payload);
        await _s.Discord.WaitUntilAsync(d => d.CallbackFor(interaction.Id) is not null, description: "autocomplete answer");

        var values = _s.Discord.CallbackFor(interaction.Id)!.Data!["choices"]!.AsArray().Select(c => c!["value"]!.GetValue<string>());
        Assert.Equal(["dashboard-other"], values);
    }

    [Fact]
    public async Task Revoke_removes_the_role_and_the_wallet_link()
    {
        await _s.Bot.SendAsync(_s.Bot.Webhook("alice"));
        await _s.Bot.WaitForRolePutsAsync(BotScenario.AliceId);
        await Inbox.WaitForDecisionAsync(_s.Bot, Outcomes.Granted);

        var answer = await _s.AskAsync(AdminId, Slash("revoke", User("member", BotScenario.AliceId)),
            c => c.Contains("Removed", StringComparison.Ordinal));

        Assert.Contains("Removed 1 role(s)", answer.Content, StringComparison.Ordinal);
        Assert.Contains("Removed 1 wallet link(s)", answer.Content, StringComparison.Ordinal);
        Assert.DoesNotContain(BotScenario.HolderRoleId, _s.Discord.GetMemberRoles(GuildId, BotScenario.AliceId));

        // With the link gone, the same wallet may now verify Bob.
        await _s.Bot.SendAsync(_s.Bot.Webhook("bob"));
        await _s.Bot.WaitForRolePutsAsync(BotScenario.BobId);
    }

    [Fact]
    public async Task Revoke_whose_answer_edit_fails_still_says_what_was_done()
    {
        await _s.Bot.SendAsync(_s.Bot.Webhook("alice"));
        await _s.Bot.WaitForRolePutsAsync(BotScenario.AliceId);
        await Inbox.WaitForDecisionAsync(_s.Bot, Outcomes.Granted);
        // The role removal succeeds; only the edit that shows the result is refused, once.
        _s.Discord.InjectFault("PATCH", "/webhooks/*/*/messages/@original",
            FakeFault.Status(400, """{"message":"Invalid Form Body","code":50035}"""), times: 1);

        var answer = await _s.AskAsync(AdminId, Slash("revoke", User("member", BotScenario.AliceId)),
            c => c.Contains("Removed", StringComparison.Ordinal) || c.Contains("went wrong", StringComparison.Ordinal));

        Assert.Contains("Removed 1 role(s)", answer.Content, StringComparison.Ordinal);
        Assert.DoesNotContain("Nothing was changed", answer.Content, StringComparison.Ordinal);
        Assert.DoesNotContain(BotScenario.HolderRoleId, _s.Discord.GetMemberRoles(GuildId, BotScenario.AliceId));
    }

    [Fact]
    public async Task Post_puts_a_Verify_wallet_button_in_the_channel()
    {
        await _s.AskAsync(AdminId, Link("dashboard-made", BotScenario.HolderRoleId, Url));

        var answer = await _s.AskAsync(AdminId, Slash("post", Text("verification", "dashboard-made"), Channel("channel", ChannelId)),
            c => c.Contains("Posted", StringComparison.Ordinal));

        var post = Assert.Single(_s.Discord.RequestsTo("POST", $"/channels/{ChannelId}/messages"));
        var message = JsonNode.Parse(post.Body)!.AsObject();
        Assert.Null(message["flags"]); // public
        var button = message["components"]![0]!["components"]![0]!;
        Assert.Equal("Verify wallet", button["label"]!.GetValue<string>());
        Assert.Equal(Url, button["url"]!.GetValue<string>());
        Assert.Equal(5, button["style"]!.GetValue<int>());
        Assert.Empty(message["allowed_mentions"]!["parse"]!.AsArray());
        Assert.True(answer.IsEphemeral);
    }

    [Fact]
    public async Task Post_where_the_bot_may_not_send_is_refused_before_trying()
    {
        await _s.AskAsync(AdminId, Link("dashboard-made", BotScenario.HolderRoleId, Url));

        var answer = await _s.AskAsync(AdminId, Slash("post", Text("verification", "dashboard-made"), Channel("channel", MutedChannelId)),
            c => c.Contains("may not post", StringComparison.Ordinal));

        Assert.Contains("Send Messages", answer.Content, StringComparison.Ordinal);
        Assert.Empty(_s.Discord.RequestsTo("POST", $"/channels/{MutedChannelId}/messages"));
    }

    [Fact]
    public async Task Post_of_a_verification_without_a_link_says_how_to_add_it()
    {
        var answer = await _s.AskAsync(AdminId, Slash("post", Text("verification", BotScenario.VerificationId), Channel("channel", ChannelId)));

        // It is declared in configuration (where /walver link cannot change it), so the advice is its Url there.
        Assert.Contains("configuration", answer.Content, StringComparison.Ordinal);
        Assert.Contains("`Url`", answer.Content, StringComparison.Ordinal);
        Assert.Empty(_s.Discord.RequestsTo("POST", "/channels/*/messages"));
    }

    [Fact]
    public async Task The_log_channel_gets_a_notice_per_grant_and_per_problem()
    {
        var set = await _s.AskAsync(AdminId, Slash("log-channel", Channel("channel", ChannelId)), c => c.Contains("Notices go to", StringComparison.Ordinal));
        Assert.Contains(ChannelId, set.Content, StringComparison.Ordinal);

        await _s.Bot.SendAsync(_s.Bot.Webhook("alice"));
        await _s.Discord.WaitUntilAsync(d => d.Messages.Any(m => m.ChannelId == ChannelId && ContentOf(m).StartsWith("✅", StringComparison.Ordinal)),
            description: "a grant notice");
        await _s.Bot.SendAsync(_s.Bot.Webhook("bob")); // the same wallet for another member: a conflict
        await _s.Discord.WaitUntilAsync(d => d.Messages.Any(m => m.ChannelId == ChannelId && ContentOf(m).Contains("wallet_conflict", StringComparison.Ordinal)),
            description: "a conflict notice");

        var notice = _s.Discord.Messages.First(m => ContentOf(m).StartsWith("✅", StringComparison.Ordinal));
        Assert.Contains($"<@{BotScenario.AliceId}>", ContentOf(notice), StringComparison.Ordinal);
        Assert.Contains(BotScenario.VerificationId, ContentOf(notice), StringComparison.Ordinal);
        Assert.DoesNotContain(TestWallets.EvmAddress, ContentOf(notice), StringComparison.OrdinalIgnoreCase);
        Assert.Empty(notice.Body["allowed_mentions"]!["parse"]!.AsArray());
    }

    [Fact]
    public async Task A_log_channel_the_bot_cannot_post_in_is_refused()
    {
        var answer = await _s.AskAsync(AdminId, Slash("log-channel", Channel("channel", MutedChannelId)), c => c.Contains("may not post", StringComparison.Ordinal));

        Assert.Empty(_s.Discord.RequestsTo("POST", $"/channels/{MutedChannelId}/messages"));
        await _s.Bot.SendAsync(_s.Bot.Webhook("alice"));
        await Inbox.WaitForDecisionAsync(_s.Bot, Outcomes.Granted);
        Assert.Empty(_s.Discord.RequestsTo("POST", "/channels/*/messages"));
        Assert.Contains("Send Messages", answer.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unexpected_failure_answers_with_an_error_id_found_in_the_logs()
    {
        await _s.AskAsync(AdminId, Link("dashboard-made", BotScenario.HolderRoleId, Url));
        _s.Discord.InjectFault("GET", "/channels/*", FakeFault.Status(500, """{"message":"Internal Server Error","code":0}"""), times: 10);

        var answer = await _s.AskAsync(AdminId, Slash("post", Text("verification", "dashboard-made"), Channel("channel", ChannelId)),
            c => c.Contains("error id", StringComparison.Ordinal));

        var errorId = System.Text.RegularExpressions.Regex.Match(answer.Content, "error id `([0-9a-f]{8})`").Groups[1].Value;
        Assert.NotEmpty(errorId);
        Assert.Contains(_s.Bot.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains(errorId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Autocomplete_suggests_this_servers_verifications()
    {
        await _s.AskAsync(AdminId, Link("dashboard-made", BotScenario.HolderRoleId, Url));
        var data = Slash("disable", Text("verification", "dash"));
        data["options"]![0]!["options"]![0]!["focused"] = true;

        var interaction = _s.Discord.CreateAutocompleteInteraction(GuildId, ChannelId, AdminId, data);
        await _s.Bot.Gateway.DispatchAsync("INTERACTION_CREATE", interaction.Payload);
        await _s.Discord.WaitUntilAsync(d => d.CallbackFor(interaction.Id) is not null, description: "autocomplete answer");

        var callback = _s.Discord.CallbackFor(interaction.Id)!;
        Assert.Equal(8, callback.Type);
        var values = callback.Data!["choices"]!.AsArray().Select(c => c!["value"]!.GetValue<string>()).ToList();
        Assert.Equal(["dashboard-made"], values);
    }

    [Fact]
    public async Task Status_of_another_servers_verification_id_reveals_nothing()
    {
        var answer = await _s.AskAsync(AdminId, Slash("disable", Text("verification", "no-such-thing")));

        Assert.Contains("no verification `no-such-thing` in this server", answer.Content, StringComparison.Ordinal);
    }

    private Task WaitForLogAsync(string text) => _s.Bot.Logs.WaitForLineAsync(text);

    private const string LinkSecret = "dashboard-secret-0123456789";

    private static JsonObject Link(string id, string roleId, string? url = null) =>
        Slash("link", [Text("id", id), Role("role", roleId), Text("secret", LinkSecret), .. url is null ? Array.Empty<(string, int, JsonNode)>() : [Text("url", url)]]);

    private static string ContentOf(FakeSentMessage message) => message.Body["content"]?.GetValue<string>() ?? "";
}
