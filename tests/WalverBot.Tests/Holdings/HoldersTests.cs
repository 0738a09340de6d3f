using System.Text.Json.Nodes;
using WalverBot.Commands;
using WalverBot.Discord.Models;
using WalverBot.Holdings;
using WalverBot.Tests.Commands;
using WalverBot.Tests.Hosting;
using static WalverBot.Tests.Holdings.HoldingsScenario;

namespace WalverBot.Tests.Holdings;

public sealed class HoldersTests
{
    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"")]
    [InlineData("+1", "'+1")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    public void Fields_are_escaped_per_RFC_4180_and_formulas_neutralised(string value, string written) =>
        Assert.Equal(written, HoldersCsv.Field(value));

    [Fact]
    public void Recheck_and_holders_parse_their_options()
    {
        static InteractionOption Opt(string name, ApplicationCommandOptionType type, string value) => new(name, type, value, [], false);
        static ParseResult Parse(string sub, params InteractionOption[] options) => CommandParser.Parse(new InteractionData(1, "walver", 1,
            [new InteractionOption(sub, ApplicationCommandOptionType.SubCommand, null, options, false)], null, null, null, [], null));
        var id = Opt("verification", ApplicationCommandOptionType.String, "wb_hold");

        Assert.Equal(new RecheckCommand("wb_hold", false, false), Assert.IsType<ParseResult.Parsed>(Parse("recheck", id)).Command);
        Assert.Equal(new RecheckCommand("wb_hold", true, true), Assert.IsType<ParseResult.Parsed>(Parse("recheck", id,
            Opt("dry_run", ApplicationCommandOptionType.Boolean, "true"), Opt("confirm_removals", ApplicationCommandOptionType.Boolean, "true"))).Command);
        Assert.Equal(new HoldersCommand("wb_hold"), Assert.IsType<ParseResult.Parsed>(Parse("holders", id)).Command);
        Assert.IsType<ParseResult.Invalid>(Parse("holders"));
    }

    [Fact]
    public async Task Holders_answers_a_csv_attachment_through_a_multipart_follow_up()
    {
        await using var s = await StartAsync();
        await s.GrantAsync("alice", BotScenario.AliceId, Wallet(1), 60m);
        await s.GrantAsync("alice", BotScenario.AliceId, Wallet(2), 50m);
        await s.GrantAsync("bob", BotScenario.BobId, Wallet(3), 2m);

        var interaction = await s.CommandAsync(CommandScenario.Slash("holders", CommandScenario.Text("verification", VerificationId)),
            (d, i) => d.Followups(i.Id).Any(f => f.Attachments.Count > 0) && d.EditsOfOriginal(i.Id).Count > 0);

        var followup = Assert.Single(s.Discord.Followups(interaction.Id));
        var upload = Assert.Single(followup.Attachments);
        Assert.Equal("0", upload.Id); // sent as files[0]
        Assert.Equal("holders-wb_hold.csv", upload.FileName);
        Assert.StartsWith("text/csv", upload.ContentType);
        var lines = upload.Text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("member_id,username,wallets,amount,tier,last_checked,block_or_slot", lines[0]);
        Assert.Equal(3, lines.Length);
        var alice = lines[1].Split(',');
        Assert.Equal([BotScenario.AliceId, "alice", $"{Wallet(1)} {Wallet(2)}", "110", $"{BotScenario.HolderRoleId} {WhaleRoleId}"], alice[..5]);
        Assert.Equal("1000", alice[6]);
        Assert.Equal([BotScenario.BobId, "bob", Wallet(3), "2", BotScenario.HolderRoleId], lines[2].Split(',')[..5]);
        Assert.Equal(64, followup.Body["flags"]?.GetValue<int>()); // only the admin sees it
        Assert.Equal("holders-wb_hold.csv", followup.Body["attachments"]?[0]?["filename"]?.GetValue<string>());
    }

    [Fact]
    public async Task Recheck_dry_run_answers_through_the_command_and_status_shows_the_holdings()
    {
        await using var s = await StartAsync();
        await s.GrantAsync("alice", BotScenario.AliceId, Wallet(1), 5m);
        s.Chain.SetAmount(Wallet(1), 500m);

        var recheck = await s.CommandAsync(
            CommandScenario.Slash("recheck", CommandScenario.Text("verification", VerificationId), CommandScenario.Flag("dry_run", true)),
            (d, i) => d.EditsOfOriginal(i.Id).Any(e => (e.Body["content"]?.GetValue<string>() ?? "").StartsWith("Dry run", StringComparison.Ordinal)));
        var answer = s.Discord.EditsOfOriginal(recheck.Id)[^1].Body["content"]!.GetValue<string>();
        Assert.Contains("1 roles would be added", answer);
        Assert.Contains($"+ <@&{WhaleRoleId}> to <@{BotScenario.AliceId}> (holds 500)", answer);
        Assert.DoesNotContain(WhaleRoleId, s.RolesOf(BotScenario.AliceId));

        var status = await s.CommandAsync(CommandScenario.Slash("status", CommandScenario.User("member", BotScenario.AliceId)),
            (d, i) => Content(d, i).Contains("Holdings", StringComparison.Ordinal));
        var text = Content(s.Discord, status);
        Assert.Contains($"`{Wallet(1)}`: 5 at block/slot 1000; last check <t:", text);
        Assert.Contains("next check <t:", text);
    }

    private static string Content(WalverBot.Testing.FakeDiscord.FakeDiscordServer d, WalverBot.Testing.FakeDiscord.FakeInteraction i) =>
        d.EditsOfOriginal(i.Id).LastOrDefault()?.Body["content"]?.GetValue<string>()
        ?? d.CallbackFor(i.Id)?.Data?["content"]?.GetValue<string>() ?? "";
}

public sealed class RecheckProgressTests
{
    [Fact]
    public async Task A_long_recheck_edits_its_answer_with_wallets_checked_of_total_before_the_final_answer()
    {
        await using var s = await StartAsync();
        var verification = (await s.Services.GetRequiredService<WalverBot.Verifications.VerificationStore>().FindAsync(VerificationId))!;
        await using (var connection = await s.Services.GetRequiredService<WalverBot.Storage.Database>().OpenAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            for (var i = 1; i <= 2000; i++)
            {
                await HoldingsStore.RecordGrantAsync(connection, transaction, verification, 1_500_000_000_000_000_000UL + (ulong)i, Wallet(1000 + i),
                    [], new HashSet<ulong> { HolderRole }, DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
                s.Chain.SetAmount(Wallet(1000 + i), 5m);
            }

            await transaction.CommitAsync();
        }

        // The second batch of 1,000 takes a while (a slow RPC), so the pass outlives the 2 s between progress edits.
        var reads = 0;
        s.Chain.BeforeRead = async _ =>
        {
            if (Interlocked.Increment(ref reads) == 2)
            {
                await s.Discord.WaitUntilAsync(d => d.Requests.Any(r => r.Method == "PATCH" && r.Path.EndsWith("/messages/@original", StringComparison.Ordinal)
                    && r.Body.Contains("1000 of 2000 wallets checked", StringComparison.Ordinal)), TimeSpan.FromSeconds(60), "a progress edit");
            }
        };

        var interaction = await s.CommandAsync(
            CommandScenario.Slash("recheck", CommandScenario.Text("verification", VerificationId)),
            (d, i) => d.EditsOfOriginal(i.Id).Any(e => (e.Body["content"]?.GetValue<string>() ?? "").StartsWith("Re-checked", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60)); // 2,000 members, one commit each: well past 20 s when the suite shares the two cores

        var edits = s.Discord.EditsOfOriginal(interaction.Id).Select(e => e.Body["content"]!.GetValue<string>()).ToList();
        Assert.Contains(edits, e => e.Contains("1000 of 2000 wallets checked, 0 roles added, 0 removed so far", StringComparison.Ordinal));
        Assert.StartsWith("Re-checked `wb_hold`: 2000 wallets read", edits[^1]);
    }
}
