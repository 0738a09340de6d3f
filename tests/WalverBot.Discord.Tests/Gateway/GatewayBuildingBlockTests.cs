using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Tests.Gateway;

public class GatewayBuildingBlockTests
{
    [Theory]
    [InlineData(197038439483310086UL, 1, 0)]
    [InlineData(197038439483310086UL, 3, 2)]
    [InlineData(81384788765712384UL, 3, 1)]
    [InlineData(613425648685547541UL, 16, 8)]
    public void ShardFor_is_guild_id_shifted_22_modulo_shard_count(ulong guildId, int shardCount, int expected) =>
        Assert.Equal(expected, GatewaySharding.ShardFor(guildId, shardCount));

    [Fact]
    public void Send_limiter_keeps_ten_of_120_slots_per_minute_for_heartbeats()
    {
        var time = new FakeTimeProvider();
        var limiter = new GatewaySendLimiter(time);

        for (var i = 0; i < 110; i++)
        {
            Assert.Equal(TimeSpan.Zero, limiter.TryAcquire(heartbeat: false));
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        // 11 s in: ordinary sends wait until the first send leaves the 60 s window.
        Assert.Equal(TimeSpan.FromSeconds(49), limiter.TryAcquire(heartbeat: false));
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(TimeSpan.Zero, limiter.TryAcquire(heartbeat: true));
        }

        Assert.True(limiter.TryAcquire(heartbeat: true) > TimeSpan.Zero);
        time.Advance(TimeSpan.FromSeconds(49));
        Assert.Equal(TimeSpan.Zero, limiter.TryAcquire(heartbeat: true));
    }

    [Fact]
    public async Task Send_limiter_wait_ends_when_the_window_frees_a_slot()
    {
        var time = new FakeTimeProvider();
        var limiter = new GatewaySendLimiter(time);
        for (var i = 0; i < GatewaySendLimiter.OrdinaryLimit; i++)
        {
            await limiter.WaitAsync(heartbeat: false, CancellationToken.None);
        }

        var waiting = limiter.WaitAsync(heartbeat: false, CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        time.Advance(GatewaySendLimiter.Window);
        await waiting.WaitAsync(Timeouts.Signal);
    }

    [Fact]
    public async Task Identify_gate_spaces_shards_of_one_bucket_by_five_seconds_and_a_margin()
    {
        var time = new FakeTimeProvider();
        var gate = new IdentifyGate(new SessionStartLimit(1000, 1000, 0, MaxConcurrency: 1), time, NullLogger.Instance);

        await gate.WaitTurnAsync(0, CancellationToken.None);
        var second = gate.WaitTurnAsync(1, CancellationToken.None);
        time.Advance(IdentifyGate.BucketSpacing - TimeSpan.FromMilliseconds(1));
        Assert.False(second.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await second.WaitAsync(Timeouts.Signal);
        Assert.True(IdentifyGate.BucketSpacing > TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Identify_gate_counts_the_spacing_from_when_the_previous_identify_went_out()
    {
        var time = new FakeTimeProvider();
        var gate = new IdentifyGate(new SessionStartLimit(1000, 1000, 0, MaxConcurrency: 1), time, NullLogger.Instance);

        await gate.WaitTurnAsync(0, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(2)); // a slow connect: IDENTIFY goes out 2 s after the turn
        gate.IdentifySent(0);
        var again = gate.WaitTurnAsync(0, CancellationToken.None);

        time.Advance(IdentifyGate.BucketSpacing - TimeSpan.FromSeconds(2)); // the turn's own slot
        time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(1));
        Assert.False(again.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await again.WaitAsync(Timeouts.Signal);
    }

    [Fact]
    public async Task Identify_gate_lets_different_buckets_identify_together()
    {
        var time = new FakeTimeProvider();
        var gate = new IdentifyGate(new SessionStartLimit(1000, 1000, 0, MaxConcurrency: 2), time, NullLogger.Instance);

        await gate.WaitTurnAsync(0, CancellationToken.None).WaitAsync(Timeouts.Signal);
        await gate.WaitTurnAsync(1, CancellationToken.None).WaitAsync(Timeouts.Signal);
        Assert.False(gate.WaitTurnAsync(2, CancellationToken.None).IsCompleted); // bucket 0 again
    }

    [Fact]
    public async Task Identify_gate_waits_for_reset_when_no_session_starts_remain()
    {
        var time = new FakeTimeProvider();
        var gate = new IdentifyGate(new SessionStartLimit(1000, Remaining: 0, ResetAfter: 60_000, MaxConcurrency: 1), time, NullLogger.Instance);

        var waiting = gate.WaitTurnAsync(0, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        await waiting.WaitAsync(Timeouts.Signal);
    }

    [Fact]
    public void Backoff_is_short_after_a_healthy_session_then_grows_to_a_cap()
    {
        var strategy = new ExponentialBackoffReconnectStrategy(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), () => 0.999);
        var low = new ExponentialBackoffReconnectStrategy(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), () => 0.0);

        Assert.True(strategy.GetDelay(0) < TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.Zero, low.GetDelay(0));
        for (var attempt = 1; attempt < 40; attempt++)
        {
            Assert.True(strategy.GetDelay(attempt) >= strategy.GetDelay(attempt - 1));
            Assert.True(strategy.GetDelay(attempt) <= TimeSpan.FromMinutes(1));
            Assert.True(low.GetDelay(attempt) >= strategy.GetDelay(attempt) / 2.1);
        }

        Assert.Equal(TimeSpan.FromSeconds(30), low.GetDelay(20));
    }

    [Fact]
    public void Close_codes_are_sorted_per_discords_table()
    {
        Assert.Equal([4004, 4010, 4011, 4012, 4013, 4014], GatewayCloseCodes.Fatal);
        Assert.All(GatewayCloseCodes.Fatal, code => Assert.Equal(CloseAction.Fatal, GatewayCloseCodes.Classify(code)));
        // One list decides: every code Classify calls fatal is in Fatal, and IsFatal says the same.
        Assert.Equal(GatewayCloseCodes.Fatal, Enumerable.Range(1000, 4000).Where(code => GatewayCloseCodes.Classify(code) == CloseAction.Fatal));
        Assert.All(Enumerable.Range(1000, 4000), code => Assert.Equal(GatewayCloseCodes.Classify(code) == CloseAction.Fatal, GatewayCloseCodes.IsFatal(code)));
        Assert.False(GatewayCloseCodes.IsFatal(null));
        Assert.Equal(CloseAction.Reidentify, GatewayCloseCodes.Classify(4007));
        Assert.Equal(CloseAction.Reidentify, GatewayCloseCodes.Classify(4009));
        Assert.All(new int?[] { null, 1000, 1001, 1006, 4000, 4001, 4002, 4003, 4005, 4008, 4999 }, code => Assert.Equal(CloseAction.Resume, GatewayCloseCodes.Classify(code)));
    }

    [Fact]
    public async Task Readiness_needs_every_shard()
    {
        var status = new GatewayStatus();
        Assert.False(status.IsReady);
        Assert.Equal("gateway not started", status.NotReadyReason);

        status.Start([0, 1]);
        status.SetReady(0);
        Assert.False(status.IsReady);
        Assert.Equal("shard 1: starting", status.NotReadyReason);

        status.SetReady(1);
        Assert.True(status.IsReady);

        status.SetNotReady(0, "reconnecting (op 7)");
        Assert.Equal("shard 0: reconnecting (op 7)", status.NotReadyReason);

        Assert.Null(status.Stopped);
        Assert.False(status.WhenStopped.IsCompleted);
        var stop = new GatewayStop("4014", "enable the intent", DateTimeOffset.UnixEpoch, 4014, 0);
        status.SetStopped(stop);
        Assert.False(status.IsReady);
        Assert.Equal("shard 0: stopped: 4014: enable the intent; shard 1: stopped: 4014: enable the intent", status.NotReadyReason);
        Assert.Same(stop, status.Stopped);
        Assert.Same(stop, await status.WhenStopped);

        // The first stop is the one reported.
        status.SetStopped(stop with { Reason = "later" });
        Assert.Same(stop, status.Stopped);
    }

    [Fact]
    public async Task Message_reader_reassembles_a_message_split_over_frames()
    {
        // "é" is two bytes in UTF-8; the split falls between them.
        var bytes = Encoding.UTF8.GetBytes("""{"op":0,"d":{"name":"Café Holders"}}""");
        var split = Array.IndexOf(bytes, (byte)0xC3) + 1;
        var frames = new Queue<byte[]>([bytes[..5], bytes[5..split], bytes[split..]]);

        var text = await WebSocketMessageReader.ReadMessageAsync((buffer, _) =>
        {
            var frame = frames.Dequeue();
            frame.CopyTo(buffer);
            return ValueTask.FromResult(new ValueWebSocketReceiveResult(frame.Length, WebSocketMessageType.Text, endOfMessage: frames.Count == 0));
        }, CancellationToken.None);

        Assert.Equal("""{"op":0,"d":{"name":"Café Holders"}}""", text);
    }

    [Fact]
    public async Task Message_reader_reports_a_close_frame_as_null()
    {
        var text = await WebSocketMessageReader.ReadMessageAsync(
            (_, _) => ValueTask.FromResult(new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, true)),
            CancellationToken.None);

        Assert.Null(text);
    }
}
