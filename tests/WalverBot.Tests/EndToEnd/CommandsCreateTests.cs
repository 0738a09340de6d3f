using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Commands;
using WalverBot.Grants;
using WalverBot.Tests.Commands;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.FakeWalver;
using WalverBot.Testing.Http;
using static WalverBot.Tests.Commands.CommandScenario;

namespace WalverBot.Tests.EndToEnd;

/// <summary>/walver create from the admin's command to the role a member gets, and every way Walver can answer.</summary>
[LongRunning(5)]
public sealed class CommandsCreateTests : IAsyncLifetime
{
    private CommandScenario _s = null!;

    public async Task InitializeAsync() => _s = await CommandScenario.StartAsync();

    public async Task DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task An_admin_creates_a_verification_whose_webhook_grants_the_role()
    {
        var interaction = await _s.RunAsync(AdminId, Create());
        var answer = await _s.AnswerAsync(interaction, c => c.Contains("Created", StringComparison.Ordinal));

        // Acknowledged in time, privately, by a deferral: Walver, the slow part, is called only after it.
        Assert.Equal(5, answer.Callback.Type);
        Assert.True(answer.IsEphemeral);
        var request = Assert.Single(_s.Walver.Requests);
        Assert.True(answer.Callback.At <= request.Timestamp, $"deferred at {answer.Callback.At:O}, Walver called at {request.Timestamp:O}");

        // Walver got every required field.
        Assert.Equal(_s.Walver.ApiKey, request.Header("X-API-Key"));
        var created = Assert.Single(_s.Walver.Created);
        var body = created.Body;
        var id = body["id"]!.GetValue<string>();
        Assert.StartsWith($"wb_{GuildId}_", id, StringComparison.Ordinal);
        Assert.Equal("Test Guild", body["service_name"]!.GetValue<string>());
        Assert.Equal("ethereum", body["chain"]!.GetValue<string>());
        Assert.Equal("https://bot.example.test/webhooks/walver", body["webhook"]!.GetValue<string>());
        var secret = body["secret"]!.GetValue<string>();
        Assert.True(Convert.FromBase64String(secret.Replace('-', '+').Replace('_', '/') + "=").Length >= 32, "secret of at least 32 random bytes");
        Assert.True(body["force_discord_verification"]!.GetValue<bool>());
        var field = Assert.Single(body["custom_fields"]!.AsArray())!;
        Assert.Equal("discord", field["type"]!.GetValue<string>());
        Assert.Equal("discord", field["id"]!.GetValue<string>());
        Assert.True(field["required"]!.GetValue<bool>());
        Assert.False(body["token_gate"]!.GetValue<bool>());

        // The link is in the answer, as text and as a button.
        var url = $"https://walver.io/verify/{id}";
        Assert.Contains(url, answer.Content, StringComparison.Ordinal);
        Assert.Contains(answer.Buttons, b => b["url"]?.GetValue<string>() == url);

        // Walver's webhook for that id, with that secret, grants the role.
        var delivery = await _s.Bot.SendAsync(FakeWalverWebhook.For(id).WithDiscord("alice").WithSecret(secret).Signed());
        Assert.Equal(200, delivery.Status);
        await _s.Bot.WaitForRolePutsAsync(BotScenario.AliceId);
        Assert.Contains(BotScenario.HolderRoleId, _s.Discord.GetMemberRoles(GuildId, BotScenario.AliceId));

        // The secret never reached the logs.
        Assert.DoesNotContain(secret, _s.Bot.Logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain(_s.Walver.ApiKey, _s.Bot.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_gate_reaches_Walver_and_the_gate_is_enforced()
    {
        const string token = "0xAbCdEf0123456789aBcDeF0123456789abCDef01";
        var answer = await _s.AskAsync(AdminId, Create(more: [Text("token_address", token), Number("min_amount", 2.5), Flag("one_time", true), Integer("expires_in_days", 7)]),
            c => c.Contains("Created", StringComparison.Ordinal));

        var body = Assert.Single(_s.Walver.Created).Body;
        Assert.True(body["token_gate"]!.GetValue<bool>());
        Assert.Equal(token.ToLowerInvariant(), body["token_address"]!.GetValue<string>());
        Assert.Equal(2.5m, body["token_amount"]!.GetValue<decimal>());
        Assert.True(body["one_time"]!.GetValue<bool>());
        var expiration = DateTimeOffset.Parse(body["expiration"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expiration - DateTimeOffset.UtcNow, TimeSpan.FromDays(6.9), TimeSpan.FromDays(7.1));
        Assert.Contains("2.5", answer.Content, StringComparison.Ordinal);

        // A delivery whose token check is below the minimum grants nothing.
        var id = body["id"]!.GetValue<string>();
        var secret = body["secret"]!.GetValue<string>();
        await _s.Bot.SendAsync(FakeWalverWebhook.For(id).WithDiscord("alice").WithSecret(secret).Signed().WithToken(token, 1, 5, passed: true));
        await Inbox.WaitForDecisionAsync(_s.Bot, Outcomes.TokenMismatch);
        Assert.Equal(0, _s.Bot.RolePuts(BotScenario.AliceId));
    }

    [Fact]
    public async Task Binding_by_code_asks_Walver_for_the_code_and_grants_the_account_that_ran_verify()
    {
        await _s.AskAsync(AdminId, Create(more: [Text("binding", "code")]), c => c.Contains("Created", StringComparison.Ordinal));
        var body = Assert.Single(_s.Walver.Created).Body;
        var fields = body["custom_fields"]!.AsArray().Select(f => f!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(["discord", "walverbot_code"], fields);

        // Alice runs /verify and gets a code; the form on Walver's page is then filled with Bob's name.
        var verify = await _s.AskAsync(BotScenario.AliceId, Verify());
        Assert.True(verify.IsEphemeral);
        var code = System.Text.RegularExpressions.Regex.Match(verify.Content, @"\*\*([A-Z2-9]{8})\*\*").Groups[1].Value;
        Assert.Equal(8, code.Length);
        var id = body["id"]!.GetValue<string>();
        var secret = body["secret"]!.GetValue<string>();
        await _s.Bot.SendAsync(FakeWalverWebhook.For(id).WithDiscord("bob").WithField("walverbot_code", code).WithSecret(secret).Signed());

        await _s.Bot.WaitForRolePutsAsync(BotScenario.AliceId);
        Assert.Equal(0, _s.Bot.RolePuts(BotScenario.BobId));
        Assert.DoesNotContain(code, _s.Bot.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_without_Manage_Roles_is_refused_and_Walver_is_not_called()
    {
        var interaction = await _s.RunAsync(BotScenario.BobId, Create());
        var answer = await _s.AnswerAsync(interaction);

        Assert.Equal(4, answer.Callback.Type);
        Assert.True(answer.IsEphemeral);
        Assert.Equal(InteractionHandler.NotAdminMessage, answer.Content);
        Assert.Empty(_s.Walver.Requests);
        Assert.Empty(_s.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*"));
    }

    [Fact]
    public async Task Invalid_options_are_explained_without_calling_Walver()
    {
        var answer = await _s.AskAsync(AdminId, Create(chain: "solana", more: [Text("token_address", "0x1111111111111111111111111111111111111111"), Number("min_amount", 1)]));

        Assert.Contains("not a Solana address", answer.Content, StringComparison.Ordinal);
        Assert.Empty(_s.Walver.Requests);
    }

    [Fact]
    public async Task Walver_429_gives_the_wait_and_the_bot_stays_healthy()
    {
        _s.Walver.InjectFault("POST", "/new", FakeFault.RateLimited(42));

        var answer = await _s.AskAsync(AdminId, Create(), c => c.Contains("rate limit", StringComparison.Ordinal));

        Assert.Contains("Try again in 42 seconds", answer.Content, StringComparison.Ordinal);
        Assert.Contains("Nothing was created", answer.Content, StringComparison.Ordinal);
        Assert.Single(_s.Walver.Requests); // a 429 is not retried

        // Until the wait is over the bot does not call Walver again, and says how long remains.
        var again = await _s.AskAsync(AdminId, Create(), c => c.Contains("rate limit", StringComparison.Ordinal));
        Assert.Matches(@"Try again in (4[0-2]|3\d) seconds", again.Content);
        Assert.Single(_s.Walver.Requests);

        // Healthy: ready, and other commands answer.
        using var http = new HttpClient();
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync($"{_s.Bot.BaseUrl}/readyz")).StatusCode);
        var list = await _s.AskAsync(AdminId, Slash("list"));
        Assert.Contains(BotScenario.VerificationId, list.Content, StringComparison.Ordinal);
        Assert.DoesNotContain("wb_" + GuildId, list.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Walver_500_is_retried_with_the_same_id()
    {
        _s.Walver.InjectFault("POST", "/new", FakeFault.Status(500, "Internal Server Error", "text/plain"));

        var answer = await _s.AskAsync(AdminId, Create(), c => c.Contains("Created", StringComparison.Ordinal));

        Assert.Equal(2, _s.Walver.Requests.Count);
        Assert.Equal(_s.Walver.Requests[0].Body, _s.Walver.Requests[1].Body);
        Assert.Contains(Assert.Single(_s.Walver.Created).Id, answer.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Walver_down_stores_nothing_and_says_so()
    {
        _s.Walver.GoDown(502);

        var answer = await _s.AskAsync(AdminId, Create(), c => c.Contains("not reachable", StringComparison.Ordinal));

        Assert.Contains("Walver answered 502", answer.Content, StringComparison.Ordinal);
        Assert.Equal(3, _s.Walver.Requests.Count); // first attempt + 2 retries
        var list = await _s.AskAsync(AdminId, Slash("list"));
        Assert.DoesNotContain("wb_" + GuildId, list.Content, StringComparison.Ordinal);
    }

    public static TheoryData<int, string, string> WalverRefusals => new()
    {
        { 409, """{"detail":"Verification with this ID already exists"}""", "already has a verification" },
        { 401, """{"detail":"Invalid API key"}""", "Walver:ApiKey" },
        { 422, """{"detail":[{"type":"missing","loc":["body","chain"],"msg":"Field required"}]}""", "chain: Field required" },
    };

    [Theory]
    [MemberData(nameof(WalverRefusals))]
    public async Task Walver_refusals_become_clear_answers_and_are_not_retried(int status, string body, string expected)
    {
        _s.Walver.InjectFault("POST", "/new", FakeFault.Status(status, body));

        var answer = await _s.AskAsync(AdminId, Create(), c => c.Contains(expected, StringComparison.Ordinal));

        Assert.Single(_s.Walver.Requests);
        Assert.DoesNotContain("Created", answer.Content, StringComparison.Ordinal);
        var list = await _s.AskAsync(AdminId, Slash("list"));
        Assert.DoesNotContain("wb_" + GuildId, list.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_slow_Walver_times_out_with_a_clear_answer()
    {
        await using var s = await CommandScenario.StartAsync(new Dictionary<string, string?>
        {
            ["Walver:AttemptTimeout"] = "00:00:01",
            ["Walver:MaxRetries"] = "1",
        });
        s.Walver.InjectFault("POST", "/new", FakeFault.Delay(TimeSpan.FromSeconds(5)), times: 2);

        var interaction = await s.RunAsync(AdminId, Create());
        var answer = await s.AnswerAsync(interaction, c => c.Contains("not reachable", StringComparison.Ordinal));

        Assert.Contains("did not answer within 1 s", answer.Content, StringComparison.Ordinal);
        Assert.Equal(5, answer.Callback.Type); // deferred before the slow calls, so Discord's 3 s did not run out on them
        Assert.Equal(2, s.Walver.Requests.Count(r => r.Method == "POST")); // each attempt held 5 s, past the 1 s attempt timeout
        Assert.Empty(s.Walver.Created);
    }

    [Fact]
    public async Task Missing_settings_name_what_the_operator_must_set()
    {
        await using var s = await CommandScenario.StartAsync(new Dictionary<string, string?>
        {
            ["Walver:ApiKey"] = null,
            ["Webhook:PublicBaseUrl"] = "",
        });

        var answer = await s.AskAsync(AdminId, Create());

        Assert.Contains("Walver:ApiKey", answer.Content, StringComparison.Ordinal);
        Assert.Contains("Webhook:PublicBaseUrl", answer.Content, StringComparison.Ordinal);
        Assert.Empty(s.Walver.Requests);
    }
}

/// <summary>Discord:CommandGuildIds: commands go to the listed servers only, and leave the ones no longer listed.</summary>
public sealed class CommandsRegistrationScopeTests
{
    [Fact]
    public async Task Listed_guilds_get_the_commands_instead_of_a_global_registration()
    {
        await using var s = await CommandScenario.StartAsync(new Dictionary<string, string?> { ["Discord:CommandGuildIds:0"] = GuildId },
            time: new FakeTimeProvider(DateTimeOffset.UtcNow));

        await s.Discord.WaitForRequestAsync("PUT", $"/applications/*/guilds/{GuildId}/commands");

        Assert.Equal(["walver", "verify"], s.Discord.RegisteredCommands(GuildId)!.Select(c => c!["name"]!.GetValue<string>()));
        Assert.Empty(s.Discord.RequestsTo("PUT", "/applications/*/commands"));

        // Back to global: the guild's copies are removed so they do not show twice.
        await s.Bot.StopBotAsync();
        s.Bot.Settings.Remove("Discord:CommandGuildIds:0");
        await s.Bot.StartBotAsync();
        // The restarted bot identifies within Discord's 5 s of the first session start on the frozen clock, so Discord
        // answers op 9 d:false (gateway#session-start-limit-object). Once that connection has ended (the bot starts its
        // reconnect wait before letting the socket go), one step passes the 1-5 s wait and the bot's 6 s IDENTIFY spacing.
        await s.Bot.Gateway.WaitUntilAsync(g => g.IdentifiesRefused >= 1, TimeSpan.FromSeconds(30), "the restarted bot's IDENTIFY refused");
        await s.Bot.PassTheWaitsBeforeTheNextIdentifyAsync(s.Bot.Gateway.ConnectionCount);

        await s.Discord.WaitForRequestAsync("PUT", "/applications/*/commands");
        // READY registers the commands after that second IDENTIFY.
        try
        {
            await s.Discord.WaitUntilAsync(d => d.RegisteredCommands(GuildId) is { Count: 0 }, TimeSpan.FromSeconds(30), "guild commands emptied");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\nbot log:\n{string.Join('\n', s.Bot.Logs.Lines.TakeLast(40))}", ex);
        }
        Assert.Equal(2, s.Discord.RegisteredCommands()!.Count);
    }
}
