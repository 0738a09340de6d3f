using Microsoft.Extensions.Time.Testing;
using WalverBot.Grants;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeDiscord;

namespace WalverBot.Tests.EndToEnd;

public sealed class PendingGrantTests
{
    private const string DaveId = "1400000000000000004";

    [Theory]
    [InlineData("dave")]
    [InlineData("1400000000000000004")]
    public async Task A_member_who_verified_before_joining_gets_the_role_when_they_join(string typed)
    {
        await using var bot = await BotScenario.StartAsync();
        await bot.WaitForGatewayAsync();

        await bot.SendAsync(bot.Webhook(typed));
        await Inbox.WaitForDecisionAsync(bot, Outcomes.PendingMember);
        Assert.Equal(0, bot.RolePuts(DaveId));

        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(DaveId, "dave"));
        await bot.Gateway.DispatchAsync("GUILD_MEMBER_ADD", bot.Discord.MemberEventJson(BotScenario.GuildId, DaveId));

        await bot.WaitForRolePutsAsync(DaveId);
        await Inbox.WaitForDecisionAsync(bot, Outcomes.Granted);
        bot.AssertOneRolePut(DaveId);
    }

    [Fact]
    public async Task Someone_else_joining_does_not_take_a_pending_grant()
    {
        await using var bot = await BotScenario.StartAsync();
        await bot.WaitForGatewayAsync();
        await bot.SendAsync(bot.Webhook("dave"));
        await Inbox.WaitForDecisionAsync(bot, Outcomes.PendingMember);

        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember("1400000000000000005", "dave2") { GlobalName = "dave" });
        await bot.Gateway.DispatchAsync("GUILD_MEMBER_ADD", bot.Discord.MemberEventJson(BotScenario.GuildId, "1400000000000000005"));

        // Then dave himself joins. The one pending event grants at most once, so its role reaching dave shows that
        // the look-alike's join took nothing, without guessing how long "nothing happened" takes.
        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(DaveId, "dave"));
        await bot.Gateway.DispatchAsync("GUILD_MEMBER_ADD", bot.Discord.MemberEventJson(BotScenario.GuildId, DaveId));
        await bot.WaitForRolePutsAsync(DaveId);

        var put = Assert.Single(bot.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*"));
        Assert.Contains($"/members/{DaveId}/", put.Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pending_grant_expires_with_a_decision()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?> { ["Grants:PendingTtl"] = "01:00:00" }, time: clock);
        await bot.SendAsync(bot.Webhook("dave"));
        await Inbox.WaitForDecisionAsync(bot, Outcomes.PendingMember);
        var waitingSince = clock.GetUtcNow();

        clock.Advance(TimeSpan.FromHours(1));
        // A wait the worker computed just before the jump would end a whole step late on this clock; wake it as a webhook would.
        bot.Services.GetRequiredService<GrantSignal>().Notify();

        var expired = await Inbox.WaitForDecisionAsync(bot, Outcomes.PendingExpired);
        Assert.Contains("did not join", expired.Reason, StringComparison.Ordinal);
        Assert.Equal(waitingSince + TimeSpan.FromHours(1), await DecidedAtAsync(bot, Outcomes.PendingExpired)); // no sooner than the TTL
    }

    private static async Task<DateTimeOffset> DecidedAtAsync(BotScenario bot, string outcome)
    {
        await using var connection = await bot.Services.GetRequiredService<WalverBot.Storage.Database>().OpenAsync();
        var at = await Dapper.SqlMapper.ExecuteScalarAsync<string>(connection, "SELECT at FROM decisions WHERE outcome = @outcome", new { outcome });
        return DateTimeOffset.Parse(at!, System.Globalization.CultureInfo.InvariantCulture);
    }
}
