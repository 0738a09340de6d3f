using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using static WalverBot.Discord.Tests.GatewayIntegration.GatewayWorld;

namespace WalverBot.Discord.Tests.GatewayIntegration;

/// <summary>Stopping the host lets gateway event handlers that are running (and events already received) finish.</summary>
public sealed class GatewayShutdownTests
{
    [Fact]
    public async Task Host_shutdown_waits_for_a_running_handler_and_the_events_queued_behind_it()
    {
        var slow = new SlowJoinHandler();
        await using var world = await StartAsync(configure: services => services.AddSingleton<IGatewayEventHandler<GuildMemberAddEvent>>(slow));
        await world.WaitForSessionAsync();

        await world.Gateway.DispatchAsync("GUILD_MEMBER_ADD", world.Discord.MemberEventJson(GuildId, AliceId));
        await slow.Started.Task.WaitAsync(WaitTimeout);
        await world.Gateway.DispatchAsync("GUILD_MEMBER_ADD", world.Discord.MemberEventJson(GuildId, AliceId));
        // The second ADD has reached the bot (the cache saw it) and waits behind the first one's handler.
        await EventuallyAsync(() => world.Host.Services.GetRequiredService<GatewayEventDispatcher>().Queued == 1, "the second ADD queued");

        var stopping = world.Host.StopAsync();
        // The shards are done (the session was closed with 1000) while the handler still runs: shutdown waits for it.
        await world.Gateway.WaitUntilAsync(g => g.Connections.All(c => c.ClientCloseCode == 1000), WaitTimeout, "the client's normal close");
        Assert.False(stopping.IsCompleted, "the host stopped while a gateway event handler was still running");

        slow.Release.TrySetResult();
        await stopping.WaitAsync(WaitTimeout);
        Assert.Equal(2, slow.Finished);
        Assert.False(slow.SawCancellation);
    }

    [Fact]
    public async Task Host_shutdown_cancels_a_handler_that_outlasts_the_shutdown_budget()
    {
        var slow = new SlowJoinHandler { IgnoreRelease = true };
        await using var world = await StartAsync(configure: services =>
        {
            services.AddSingleton<IGatewayEventHandler<GuildMemberAddEvent>>(slow);
            services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(300));
        });
        await world.WaitForSessionAsync();
        await world.Gateway.DispatchAsync("GUILD_MEMBER_ADD", world.Discord.MemberEventJson(GuildId, AliceId));
        await slow.Started.Task.WaitAsync(WaitTimeout);

        await world.Host.StopAsync().WaitAsync(WaitTimeout);

        await EventuallyAsync(() => slow.SawCancellation, "the handler's token cancelled when the budget ran out");
        Assert.Contains(world.Logs.Lines, l => l.Contains("Shutdown budget ran out with 1 gateway event handler(s) still running", StringComparison.Ordinal));
    }

    private sealed class SlowJoinHandler : IGatewayEventHandler<GuildMemberAddEvent>
    {
        private int _finished;
        private volatile bool _sawCancellation;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool IgnoreRelease { get; init; }
        public int Finished => Volatile.Read(ref _finished);
        public bool SawCancellation => _sawCancellation;

        public async Task HandleAsync(GuildMemberAddEvent gatewayEvent, CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            try
            {
                await (IgnoreRelease ? Task.Delay(Timeout.Infinite, cancellationToken) : Release.Task.WaitAsync(cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                _sawCancellation = true;
                throw;
            }

            Interlocked.Increment(ref _finished);
        }
    }
}
