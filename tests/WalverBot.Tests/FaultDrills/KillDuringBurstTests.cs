using WalverBot.Testing.FakeWalver;
using WalverBot.Tests.Hosting;
using WalverBot.Tests.Operations;

namespace WalverBot.Tests.FaultDrills;

/// <summary>kill -9 of the real bot process during a burst of webhooks while Discord answers 503; then a restart.</summary>
[LongRunning(10)]
public sealed class KillDuringBurstTests
{
    private const int Burst = 60;
    private const int KillAfterAccepted = 25;

    [Fact]
    public async Task Every_accepted_webhook_yields_exactly_one_role_assignment_after_kill_9_and_restart()
    {
        await using var scenario = await ProcessScenario.StartAsync();
        DrillMembers.Seed(scenario.Discord, Burst);
        // The drill is about crash safety, not Discord's per-guild limits on member search and role PUTs (10 per 10 s
        // each in the fake, which alone would stretch 60 grants over a minute); the rate-limit benchmark covers those.
        scenario.Discord.SetRateLimit(WalverBot.Testing.FakeDiscord.FakeDiscordBuckets.MemberRoles, 50, TimeSpan.FromSeconds(1));
        scenario.Discord.SetRateLimit(WalverBot.Testing.FakeDiscord.FakeDiscordBuckets.MemberSearch, 50, TimeSpan.FromSeconds(1));
        var environment = scenario.With(("Security__Signatures", "Off"), ("Grants__RetryFor", "01:00:00"));

        var accepted = new System.Collections.Concurrent.ConcurrentBag<int>();
        var unanswered = new System.Collections.Concurrent.ConcurrentBag<int>();
        await using (var bot = BotProcess.Start(environment))
        {
            var url = $"{await bot.WaitForListeningAsync()}/webhooks/walver";
            scenario.Discord.GoDown(503);
            using var sender = new FakeWalverWebhookSender();
            var killed = 0;
            await Parallel.ForEachAsync(Enumerable.Range(0, Burst), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
            {
                try
                {
                    var answer = await sender.SendAsync(url, DrillMembers.Webhook(i));
                    if (answer.Status == 200 && answer.Body.Contains("accepted", StringComparison.Ordinal))
                    {
                        accepted.Add(i);
                    }
                    else
                    {
                        unanswered.Add(i);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or System.Net.Sockets.SocketException)
                {
                    // The process died under this request: never acknowledged. (A connection reset as it opened reaches
                    // the caller as a bare SocketException: HttpClient reads the peer's address outside its error wrapping.)
                    unanswered.Add(i);
                }

                if (accepted.Count >= KillAfterAccepted && Interlocked.Exchange(ref killed, 1) == 0)
                {
                    await bot.KillAsync();
                }
            });
            Assert.Equal(1, killed);
            Assert.Equal(137, bot.ExitCode);
        }

        Assert.True(accepted.Count >= KillAfterAccepted);
        Assert.Empty(DrillMembers.AssignmentsPerMember(scenario.Discord)); // Discord was down: nothing assigned yet

        scenario.Discord.ComeBackUp();
        await using var restarted = BotProcess.Start(environment);
        await restarted.WaitForListeningAsync();
        try
        {
            await scenario.Discord.WaitUntilAsync(
                d => accepted.All(i => DrillMembers.AssignmentsPerMember(d).ContainsKey(DrillMembers.UserId(i))),
                TimeSpan.FromSeconds(40), $"role assignments for all {accepted.Count} accepted webhooks");
        }
        catch (TimeoutException ex)
        {
            var missing = accepted.Where(i => !DrillMembers.AssignmentsPerMember(scenario.Discord).ContainsKey(DrillMembers.UserId(i))).ToList();
            throw new TimeoutException(
                $"{ex.Message} ({missing.Count} missing)\nrestarted bot's log:\n{string.Join('\n', restarted.Output.TakeLast(30))}", ex);
        }
        // A duplicate could only come from an event still pending (e.g. one the killed process had claimed): once every
        // event is decided, the worker calls Discord no more, so the counts below are final.
        await Inbox.WaitUntilDrainedAsync(scenario.DatabasePath, atLeast: accepted.Count, timeout: TimeSpan.FromSeconds(40));

        var assignments = DrillMembers.AssignmentsPerMember(scenario.Discord);
        Assert.All(accepted, i => Assert.Equal(1, assignments[DrillMembers.UserId(i)]));
        // A webhook in flight at the kill may or may not have been stored; if it was, it is granted once too.
        Assert.All(assignments, pair => Assert.Equal(1, pair.Value));
        Assert.All(unanswered, i => Assert.True(assignments.GetValueOrDefault(DrillMembers.UserId(i)) <= 1));
    }
}
