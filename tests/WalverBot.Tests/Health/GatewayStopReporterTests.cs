using Microsoft.Extensions.Time.Testing;
using WalverBot.Discord.Gateway;
using WalverBot.Health;
using WalverBot.Operations;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.Health;

public sealed class GatewayStopReporterTests
{
    [Fact]
    public async Task A_stopped_gateway_is_logged_again_every_10_minutes_of_the_clock_and_shown_in_a_metric()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var gateway = new StubGatewayStatus();
        var logs = new CapturedLogs();
        await using var services = new ServiceCollection().AddMetrics().AddLogging(b => b.AddProvider(logs)).BuildServiceProvider();
        using var reporter = new GatewayStopReporter(gateway, new BotMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            time, services.GetRequiredService<ILogger<GatewayStopReporter>>());
        await reporter.StartAsync(CancellationToken.None);
        Assert.Empty(ReadinessTests.ReadStoppedGauge(services));

        gateway.Stop(new GatewayStop("Discord closed the gateway connection of shard 0 with 4014 Disallowed intent(s)",
            GatewayCloseCodes.Advice(4014), time.GetUtcNow(), 4014, 0));
        var (value, tags) = Assert.Single(ReadinessTests.ReadStoppedGauge(services));
        Assert.Equal(1, value);
        Assert.Equal("4014", tags["close_code"]);
        Assert.Equal(GatewayCloseCodes.Advice(4014), tags["advice"]);

        // Each repeat says how long the gateway has been stopped by the clock: a line written early would say less.
        time.Advance(TimeSpan.FromMinutes(10));
        await WaitForRepeatsAsync(logs, 1);
        time.Advance(TimeSpan.FromMinutes(10));
        await WaitForRepeatsAsync(logs, 2);

        var repeats = Repeats(logs);
        Assert.Contains("(for 00:10:00)", repeats[0], StringComparison.Ordinal);
        Assert.Contains("(for 00:20:00)", repeats[1], StringComparison.Ordinal);
        Assert.All(repeats, line =>
        {
            Assert.Contains("stopped: Discord closed the gateway connection of shard 0 with 4014", line, StringComparison.Ordinal);
            Assert.Contains("enable the Server Members intent in the Discord developer portal", line, StringComparison.Ordinal);
            Assert.Contains("webhooks are accepted and stored", line, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', line);
        });

        await reporter.StopAsync(CancellationToken.None);
    }

    private static List<string> Repeats(CapturedLogs logs) => [.. logs.Lines.Where(l => l.Contains("Discord gateway still stopped", StringComparison.Ordinal))];

    private static Task WaitForRepeatsAsync(CapturedLogs logs, int count) =>
        Eventually.UntilAsync(() => Repeats(logs).Count >= count, $"{count} repeated advice line(s)", observed: () => $"logs:\n{logs.All}");

    private sealed class StubGatewayStatus : IGatewayStatus
    {
        private readonly TaskCompletionSource<GatewayStop> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsReady => false;
        public string? NotReadyReason => Stopped?.ToString() ?? "connecting";
        public GatewayStop? Stopped => _stopped.Task.IsCompleted ? _stopped.Task.Result : null;
        public Task<GatewayStop> WhenStopped => _stopped.Task;

        public void Stop(GatewayStop stop) => _stopped.TrySetResult(stop);
    }
}
