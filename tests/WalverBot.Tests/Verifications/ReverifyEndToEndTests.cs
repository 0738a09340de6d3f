using Microsoft.Extensions.Time.Testing;
using WalverBot.Tests.Commands;
using WalverBot.Tests.Hosting;
using WalverBot.Verifications;
using static WalverBot.Tests.Commands.CommandScenario;

namespace WalverBot.Tests.Verifications;

/// <summary>
/// ReverifyAfter in the real bot: a declared verification with the key, a real webhook grant, then the expiry as the host
/// wires it, run on a clock 91 days ahead: the role goes, the log channel is told, list and status say why.
/// </summary>
public sealed class ReverifyEndToEndTests : IAsyncLifetime
{
    private CommandScenario _s = null!;

    public async Task InitializeAsync() =>
        _s = await CommandScenario.StartAsync(new Dictionary<string, string?> { ["Verifications:0:ReverifyAfter"] = "90.00:00:00" });

    public async Task DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task The_role_of_a_declared_verification_expires_with_a_notice_and_list_and_status_show_it()
    {
        await _s.AskAsync(AdminId, Slash("log-channel", Channel("channel", ChannelId)), c => c.Contains("Notices go to", StringComparison.Ordinal));
        await _s.Bot.SendAsync(_s.Bot.Webhook("alice"));
        await _s.Bot.WaitForRolePutsAsync(BotScenario.AliceId);
        // The PUT is answered before the grant is recorded: status reads the record.
        await Inbox.WaitForDecisionAsync(_s.Bot, WalverBot.Grants.Outcomes.Granted);
        Assert.Single(_s.Bot.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<ReverifyWorker>());
        var list = await _s.AskAsync(AdminId, Slash("list"));
        Assert.Contains("no token gate · re-verify every 90 day(s)", list.Content, StringComparison.Ordinal);
        var before = await _s.AskAsync(AdminId, Slash("status", User("member", BotScenario.AliceId)));
        var by = System.Text.RegularExpressions.Regex.Match(before.Content, @"granted <t:(\d+):f>, re-verify by <t:(\d+):f>");
        Assert.True(by.Success, before.Content);
        Assert.Equal(TimeSpan.FromDays(90).TotalSeconds, long.Parse(by.Groups[2].Value) - long.Parse(by.Groups[1].Value), 1.0);

        await using (var scope = _s.Bot.Services.CreateAsyncScope())
        {
            var later = new FakeTimeProvider(DateTimeOffset.UtcNow + TimeSpan.FromDays(91));
            var expiry = ActivatorUtilities.CreateInstance<ReverifyExpiry>(scope.ServiceProvider, (TimeProvider)later);
            Assert.Equal(1, (await expiry.RunOnceAsync(CancellationToken.None)).Removed);
        }

        Assert.DoesNotContain(BotScenario.HolderRoleId, _s.Discord.GetMemberRoles(GuildId, BotScenario.AliceId));
        await _s.Discord.WaitUntilAsync(d => d.Messages.Any(m => m.ChannelId == ChannelId && Content(m).Contains("`revoked_reverify`", StringComparison.Ordinal)),
            description: "an expiry notice in the log channel");
        var notice = Content(_s.Discord.Messages.Last(m => m.ChannelId == ChannelId));
        Assert.Contains($"<@{BotScenario.AliceId}>", notice, StringComparison.Ordinal);
        Assert.Contains("not verified again within 90 day(s)", notice, StringComparison.Ordinal);

        var status = await _s.AskAsync(AdminId, Slash("status", User("member", BotScenario.AliceId)));
        Assert.Contains("`revoked_reverify` via `wb_test_1`", status.Content, StringComparison.Ordinal);
        var after = await _s.AskAsync(AdminId, Slash("list"));
        Assert.Contains("granted 0, pending 0, rejected 0", after.Content, StringComparison.Ordinal); // an expiry is no rejection
    }

    private static string Content(WalverBot.Testing.FakeDiscord.FakeSentMessage message) => message.Body["content"]?.GetValue<string>() ?? "";
}
