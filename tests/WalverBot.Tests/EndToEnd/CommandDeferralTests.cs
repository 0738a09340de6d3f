using Microsoft.Extensions.Time.Testing;
using WalverBot.Commands;
using WalverBot.Tests.Commands;
using WalverBot.Testing.Http;
using static WalverBot.Tests.Commands.CommandScenario;

namespace WalverBot.Tests.EndToEnd;

/// <summary>
/// A command that outlasts the bot's direct-answer budget is deferred within Discord's 3 s, then answered. Its own
/// scenario on a fake clock, shared by the bot (the budget's timer) and the fake Discord (the 3 s deadline).
/// </summary>
public sealed class CommandDeferralTests
{
    [Fact]
    public async Task A_command_still_waiting_for_Discord_when_its_direct_answer_budget_runs_out_is_deferred_then_answered()
    {
        // Discord wants an interaction acknowledged within 3 s; the bot defers once its own budget, well inside that, runs out.
        Assert.InRange(InteractionHandler.DirectAnswerBudget, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        // On a clock of its own, shared by the bot (its budget's timer) and the fake (Discord's 3 s): in loaded runs, real
        // time let the deferral reach the fake after its 3 s, and the fake answered 10062 as Discord would.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await CommandScenario.StartAsync(time: clock);
        var lookup = new TaskCompletionSource();
        s.Discord.InjectFault("GET", "/channels/*", FakeFault.Hold(lookup.Task));

        // The channel lookup is held until the deferral is in: the bot can only have deferred, never answered at once.
        var interaction = await s.RunAsync(AdminId, Slash("log-channel", Channel("channel", ChannelId)));
        // The lookup has arrived, so the command is running and its budget's timer is set.
        await s.Discord.Recorder.WaitForArrivalAsync(r => r.Method == "GET" && r.Path.Contains("/channels/", StringComparison.Ordinal), description: "the held channel lookup");
        clock.Advance(InteractionHandler.DirectAnswerBudget - TimeSpan.FromMilliseconds(1));
        Assert.Null(s.Discord.CallbackFor(interaction.Id));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await s.Discord.WaitUntilAsync(d => d.CallbackFor(interaction.Id) is not null, description: "the deferral");
        Assert.Equal(5, s.Discord.CallbackFor(interaction.Id)!.Type); // DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE

        lookup.SetResult();
        var answer = await s.AnswerAsync(interaction, c => c.Contains("Notices go to", StringComparison.Ordinal));
        Assert.Equal(5, answer.Callback.Type);
    }
}
