using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Operations;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.Operations;

/// <summary><c>check</c> against the fake Discord: each problem named precisely, exit codes 0 / 1 / 2.</summary>
public sealed class CheckCommandTests
{
    private static async Task<(int ExitCode, string Output)> CheckAsync(BotScenario fakes, IDictionary<string, string?>? extra = null, bool withToken = true)
    {
        // A scenario on a test clock gives the check the same clock, as the fakes read it too.
        Action<WebApplicationBuilder>? configure = fakes.Time is { } time
            ? builder =>
            {
                builder.Services.RemoveAll<TimeProvider>();
                builder.Services.AddSingleton<TimeProvider>(time);
            }
            : null;
        var settings = new Dictionary<string, string?>
        {
            ["Discord:ApiBaseUrl"] = fakes.Discord.ApiBaseUrl,
            ["ConnectionStrings:WalverBot"] = $"Data Source={fakes.DatabasePath}",
            ["Verifications:0:Id"] = BotScenario.VerificationId,
            ["Verifications:0:GuildId"] = BotScenario.GuildId,
            ["Verifications:0:RoleId"] = BotScenario.HolderRoleId,
            ["Verifications:0:Secret"] = BotScenario.Secret,
        };
        if (withToken)
        {
            settings["Discord:Token"] = fakes.Discord.Token;
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        await using var app = Program.BuildApp([.. settings.Select(pair => $"--{pair.Key}={pair.Value}")], configure);
        var output = new StringWriter();
        var exitCode = await CheckCommand.RunAsync(app.Services, output, CancellationToken.None);
        return (exitCode, output.ToString());
    }

    /// <summary>
    /// A check whose intent probe identifies within Discord's 5 s of the previous session start on a frozen test clock,
    /// so Discord answers op 9 d:false (gateway#session-start-limit-object). Instead of spending the probe's 1–5 s wait
    /// and its 6 s IDENTIFY spacing, the clock moves past both once the refused connection has ended (the shard starts
    /// its reconnect wait before it lets the socket go).
    /// </summary>
    private static async Task<(int ExitCode, string Output)> CheckPastARefusedIdentifyAsync(BotScenario fakes, IDictionary<string, string?>? extra = null)
    {
        var refused = fakes.Gateway.IdentifiesRefused;
        var check = CheckAsync(fakes, extra);
        await fakes.Gateway.WaitUntilAsync(g => g.IdentifiesRefused > refused || check.IsCompleted, TimeSpan.FromSeconds(30), "the probe's IDENTIFY refused");
        if (!check.IsCompleted)
        {
            await fakes.PassTheWaitsBeforeTheNextIdentifyAsync(fakes.Gateway.ConnectionCount);
        }

        return await check;
    }

    [Fact]
    public async Task Check_passes_when_everything_is_in_place_and_says_what_it_checked()
    {
        await using var fakes = await BotScenario.StartAsync(time: new FakeTimeProvider(DateTimeOffset.UtcNow)); // the bot runs, so the database exists
        await fakes.WaitForGatewayAsync();

        var (exitCode, output) = await CheckPastARefusedIdentifyAsync(fakes, new Dictionary<string, string?>
        {
            ["Walver:ApiKey"] = "walver-key",
            ["Webhook:PublicBaseUrl"] = "https://bot.example.test",
        });

        Assert.True(exitCode == 0, output);
        Assert.Contains("ok    config: every setting is valid", output, StringComparison.Ordinal);
        Assert.Contains("ok    database: ", output, StringComparison.Ordinal);
        Assert.Contains($"opens for writing (schema {WalverBot.Storage.Migrations.LatestVersion}/{WalverBot.Storage.Migrations.LatestVersion}", output, StringComparison.Ordinal);
        Assert.Contains("ok    discord: the token belongs to bot WalverBot", output, StringComparison.Ordinal);
        Assert.Contains("the bot is in 1 server(s): Test Guild", output, StringComparison.Ordinal);
        Assert.Contains($"ok    verification {BotScenario.VerificationId}: role Holder ({BotScenario.HolderRoleId}) in Test Guild exists and sits below the bot's highest role", output, StringComparison.Ordinal);
        Assert.Contains("ok    intent: Server Members intent works", output, StringComparison.Ordinal);
        Assert.Contains("ok    walver: Walver:ApiKey is set", output, StringComparison.Ordinal);
        Assert.Contains("ok    instance: this instance processes the grants, pending grants and member joins of the guilds of all shards", output, StringComparison.Ordinal);
        Assert.Contains($"ok    jobs: once-only job retention: held by {WalverBot.ScaleOut.ProcessJobLeader.SqliteHolder}", output, StringComparison.Ordinal);
        Assert.DoesNotContain("walver-key", output, StringComparison.Ordinal);
        Assert.DoesNotContain(fakes.Discord.Token, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_names_each_problem_a_role_above_the_bot_a_server_without_the_bot_the_intent_and_the_missing_key()
    {
        await using var fakes = await BotScenario.StartAsync(startBot: false);
        fakes.Discord.AddRole(BotScenario.GuildId, new FakeRole("1300000000000000090", "Moderators", 9, FakeDiscordPermissions.Of(FakeDiscordPermissions.ViewChannel)));
        fakes.Gateway.Options.GuildMembersIntentEnabled = false;

        var (exitCode, output) = await CheckAsync(fakes, new Dictionary<string, string?>
        {
            ["Verifications:1:Id"] = "wb_high",
            ["Verifications:1:GuildId"] = BotScenario.GuildId,
            ["Verifications:1:RoleId"] = "1300000000000000090",
            ["Verifications:1:Secret"] = "another-secret-0123456789",
            ["Verifications:2:Id"] = "wb_elsewhere",
            ["Verifications:2:GuildId"] = "1200000000000000777",
            ["Verifications:2:RoleId"] = "1300000000000000091",
            ["Verifications:2:Secret"] = "third-secret-0123456789",
        });

        Assert.Equal(OperatorCommands.Failure, exitCode);
        Assert.Contains("warn  database: ", output, StringComparison.Ordinal);
        Assert.Contains("does not exist yet; the bot creates it at its first start", output, StringComparison.Ordinal);
        Assert.Contains($"ok    verification {BotScenario.VerificationId}: role Holder", output, StringComparison.Ordinal);
        Assert.Contains("FAIL  verification wb_high: role 1300000000000000090 in Test Guild: the role Moderators is not below the bot's highest role", output, StringComparison.Ordinal);
        Assert.Contains("FAIL  verification wb_elsewhere: the bot is not in server 1200000000000000777", output, StringComparison.Ordinal);
        Assert.Contains("FAIL  intent: Server Members intent: Discord closed the session with 4014 Disallowed intent(s): enable the Server Members intent in the Discord developer portal", output, StringComparison.Ordinal);
        Assert.Contains("warn  walver: Walver:ApiKey is not set", output, StringComparison.Ordinal);
        Assert.Contains("check: 3 problem(s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_reads_an_absent_guild_permissions_field_as_unknown_and_works_them_out_from_the_roles()
    {
        await using var fakes = await BotScenario.StartAsync(startBot: false, time: new FakeTimeProvider(DateTimeOffset.UtcNow));
        fakes.Discord.OmitGuildPermissions = true;

        var (_, output) = await CheckAsync(fakes);

        Assert.Contains($"ok    verification {BotScenario.VerificationId}: role Holder ({BotScenario.HolderRoleId}) in Test Guild exists", output, StringComparison.Ordinal);
        Assert.DoesNotContain("lacks Manage Roles", output, StringComparison.Ordinal);

        // Without the field, the bot's roles still decide: none of them grants Manage Roles here.
        fakes.Discord.SetBotRoles(BotScenario.GuildId);
        (_, output) = await CheckPastARefusedIdentifyAsync(fakes);

        Assert.Contains($"FAIL  verification {BotScenario.VerificationId}: the bot lacks Manage Roles in Test Guild ({BotScenario.GuildId})", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_says_when_Discord_refuses_the_token()
    {
        await using var fakes = await BotScenario.StartAsync(startBot: false);

        var (exitCode, output) = await CheckAsync(fakes, new Dictionary<string, string?> { ["Discord:Token"] = "not-the-right-token" });

        Assert.Equal(OperatorCommands.Failure, exitCode);
        Assert.Contains("FAIL  discord: Discord refused the token (401 Unauthorized)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-right-token", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_stops_at_an_invalid_configuration_with_exit_code_2_naming_each_key()
    {
        await using var fakes = await BotScenario.StartAsync(startBot: false);

        var (exitCode, output) = await CheckAsync(fakes, new Dictionary<string, string?> { ["Verifications:0:GuildId"] = "0" }, withToken: false);

        Assert.Equal(OperatorCommands.ConfigurationInvalid, exitCode);
        Assert.Contains("FAIL  config: Discord:Token is required", output, StringComparison.Ordinal);
        Assert.Contains("FAIL  config: Verifications:0:GuildId is required", output, StringComparison.Ordinal);
        Assert.DoesNotContain("discord:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_refuses_a_declared_Url_that_is_not_https_naming_the_key()
    {
        await using var fakes = await BotScenario.StartAsync(startBot: false);

        var (exitCode, output) = await CheckAsync(fakes, new Dictionary<string, string?> { ["Verifications:0:Url"] = "http://walver.io/verify/x" });

        Assert.Equal(OperatorCommands.ConfigurationInvalid, exitCode);
        Assert.Contains("FAIL  config: Verifications:0:Url must be the https:// link members open", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_reports_a_database_it_cannot_write()
    {
        await using var fakes = await BotScenario.StartAsync(startBot: false);
        Directory.CreateDirectory(Path.GetDirectoryName(fakes.DatabasePath)!);
        await File.WriteAllTextAsync(fakes.DatabasePath, "this is not a SQLite database, just text long enough to be read as a header........");

        var (exitCode, output) = await CheckAsync(fakes);

        Assert.Equal(OperatorCommands.Failure, exitCode);
        Assert.Contains($"FAIL  database: {fakes.DatabasePath} cannot be opened for writing: SQLite error 26", output, StringComparison.Ordinal);
    }
}
