using WalverBot.Binding;
using WalverBot.Grants;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeWalver;
using WalverBot.Verifications;

namespace WalverBot.Tests.EndToEnd;

/// <summary>With binding "code", only the Discord account that asked for the code gets the role.</summary>
public sealed class CodeBindingTests : IAsyncLifetime
{
    private BotScenario _bot = null!;

    public async Task InitializeAsync() => _bot = await BotScenario.StartAsync(new Dictionary<string, string?>
    {
        ["Verifications:0:Binding"] = "code",
    });

    public async Task DisposeAsync() => await _bot.DisposeAsync();

    private Task<(string Code, DateTimeOffset ExpiresAt)> IssueAsync(string userId) =>
        _bot.Services.GetRequiredService<IdentityCodes>().IssueAsync(ulong.Parse(BotScenario.GuildId), ulong.Parse(userId), CancellationToken.None);

    [Fact]
    public async Task The_code_holder_gets_the_role_even_when_the_typed_name_is_someone_else()
    {
        var (code, _) = await IssueAsync(BotScenario.AliceId);

        await _bot.SendAsync(_bot.Webhook("bob").WithField(Bindings.CodeField, code));

        await _bot.WaitForRolePutsAsync(BotScenario.AliceId);
        var granted = await Inbox.WaitForDecisionAsync(_bot, Outcomes.Granted);
        Assert.Contains("names another account", granted.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _bot.RolePuts(BotScenario.BobId));
    }

    [Fact]
    public async Task Without_a_code_nothing_is_granted_even_for_a_correct_username()
    {
        await _bot.SendAsync(_bot.Webhook("alice"));

        var decision = await Inbox.WaitForDecisionAsync(_bot, Outcomes.CodeRejected);
        Assert.Contains("/verify", decision.Reason, StringComparison.Ordinal);
        Assert.Empty(_bot.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*"));
    }

    [Fact]
    public async Task A_used_code_grants_nothing_the_second_time()
    {
        var (code, _) = await IssueAsync(BotScenario.AliceId);
        await _bot.SendAsync(_bot.Webhook("alice").WithField(Bindings.CodeField, code));
        await _bot.WaitForRolePutsAsync(BotScenario.AliceId);

        await _bot.SendAsync(_bot.Webhook("bob").WithField(Bindings.CodeField, code)); // another wallet delivery reusing it

        var decision = await Inbox.WaitForDecisionAsync(_bot, Outcomes.CodeRejected);
        Assert.Contains("already used", decision.Reason, StringComparison.Ordinal);
        _bot.AssertOneRolePut(BotScenario.AliceId);
        Assert.Equal(0, _bot.RolePuts(BotScenario.BobId));
    }

    [Fact]
    public async Task An_unknown_code_grants_nothing()
    {
        await _bot.SendAsync(_bot.Webhook("alice").WithField(Bindings.CodeField, "ABCDEFGH"));

        var decision = await Inbox.WaitForDecisionAsync(_bot, Outcomes.CodeRejected);
        Assert.Contains("unknown", decision.Reason, StringComparison.Ordinal);
    }
}
