using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Discord.Tests.Rest.Fakes;
using WalverBot.Testing.Waiting;

namespace WalverBot.Discord.Tests.Gateway;

public class GatewayShardTests
{
    [Fact]
    public async Task Identify_carries_token_the_hosts_intents_and_properties_and_shard()
    {
        await using var harness = new ShardHarness(shardId: 1, shardCount: 2).Start();
        var connection = await harness.Server.NextConnectionAsync();

        Assert.Equal("wss://gateway.test/?v=10&encoding=json", connection.Uri!.ToString());
        await connection.HelloAsync(ShardHarness.Interval);
        var identify = await connection.NextSentAsync();

        Assert.Equal(2, identify.GetProperty("op").GetInt32());
        var d = identify.GetProperty("d");
        Assert.Equal(ShardHarness.Token, d.GetProperty("token").GetString());
        Assert.Equal(3, d.GetProperty("intents").GetInt32());
        Assert.Equal([1, 2], d.GetProperty("shard").EnumerateArray().Select(e => e.GetInt32()));
        var properties = d.GetProperty("properties");
        Assert.Equal(["linux", "tests", "tests"], new[] { "os", "browser", "device" }.Select(name => properties.GetProperty(name).GetString()));
    }

    [Fact]
    public async Task First_heartbeat_waits_interval_times_jitter_then_beats_every_interval_with_the_last_sequence()
    {
        await using var harness = new ShardHarness(random: 0.25).Start();
        var connection = await harness.Server.NextConnectionAsync();
        await connection.HelloAsync(ShardHarness.Interval);
        await connection.NextSentAsync(op: 2);

        harness.Advance(ShardHarness.Interval / 4 - 1);
        Assert.Equal(0, connection.UnreadSentCount);

        harness.Advance(1);
        var first = await connection.NextSentAsync();
        Assert.Equal(1, first.GetProperty("op").GetInt32());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("d").ValueKind);

        await connection.AckAsync();
        await connection.ReadyAsync(sequence: 1);
        await connection.DispatchAsync("GUILD_ROLE_DELETE", 7, """{"guild_id":"1","role_id":"2"}""");

        harness.Advance(ShardHarness.Interval - 1);
        Assert.Equal(0, connection.UnreadSentCount);
        harness.Advance(1);
        var second = await connection.NextSentAsync();
        Assert.Equal(1, second.GetProperty("op").GetInt32());
        Assert.Equal(7, second.GetProperty("d").GetInt64());
    }

    [Fact]
    public async Task Heartbeat_requested_by_Discord_is_sent_at_once()
    {
        await using var harness = new ShardHarness();
        var connection = await harness.StartReadyAsync();

        await connection.OpAsync(1);

        var heartbeat = await connection.NextSentAsync();
        Assert.Equal(1, heartbeat.GetProperty("op").GetInt32());
        Assert.Equal(1, heartbeat.GetProperty("d").GetInt64());
    }

    [Fact]
    public async Task Missing_ack_is_a_zombie_connection_closed_resumably_and_resumed_with_session_and_sequence()
    {
        await using var harness = new ShardHarness(random: 0.5);
        var connection = await harness.StartReadyAsync();
        await connection.DispatchAsync("GUILD_ROLE_DELETE", 5, """{"guild_id":"1","role_id":"2"}""");

        harness.Advance(ShardHarness.Interval / 2);
        await connection.NextSentAsync(op: 1);
        harness.Advance(ShardHarness.Interval); // no ACK came back

        var closeStatus = await connection.Closed.WaitAsync(Timeouts.Signal);
        Assert.NotEqual(1000, closeStatus);
        Assert.NotEqual(1001, closeStatus);

        harness.Advance(500); // reconnect delay of a healthy session: base (1 s) × random (0.5)
        var next = await harness.Server.NextConnectionAsync();
        Assert.Equal("wss://resume.test/?v=10&encoding=json", next.Uri!.ToString());
        await next.HelloAsync(ShardHarness.Interval);
        var resume = await next.NextSentAsync();

        Assert.Equal(6, resume.GetProperty("op").GetInt32());
        Assert.Equal(ShardHarness.Token, resume.GetProperty("d").GetProperty("token").GetString());
        Assert.Equal("session-1", resume.GetProperty("d").GetProperty("session_id").GetString());
        Assert.Equal(5, resume.GetProperty("d").GetProperty("seq").GetInt64());
        Assert.Contains(harness.Logs.Lines, line => line.Contains("zombie", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Acknowledged_heartbeats_keep_the_connection()
    {
        await using var harness = new ShardHarness(random: 0.5);
        var connection = await harness.StartReadyAsync();

        for (var i = 0; i < 5; i++)
        {
            harness.Advance(i == 0 ? ShardHarness.Interval / 2 : ShardHarness.Interval);
            await connection.NextSentAsync(op: 1);
            await connection.AckAsync();
        }

        Assert.False(connection.Closed.IsCompleted);
        Assert.Single(harness.Server.Connections);
    }

    [Fact]
    public async Task Shutdown_closes_with_1000_and_keeps_reading_until_Discord_answers_the_close()
    {
        await using var harness = new ShardHarness();
        var connection = await harness.StartReadyAsync();
        connection.AnswersClose = false;

        await harness.StopAsync();

        // Docs (gateway#initiating-a-disconnect): 1000 ends the session. RFC 6455 §7.1.1: the socket is let go only
        // once the server's close frame came back; cancelling the pending read would abort it, and an abort can
        // reset the connection before Discord reads our close.
        Assert.Equal(1000, await connection.Closed.WaitAsync(Timeouts.Signal));
        Assert.False(connection.ReadCancelled);
        Assert.False(harness.Running.IsCompleted);

        await connection.AnswerCloseAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => harness.Running.WaitAsync(Timeouts.Signal));
        Assert.False(connection.ReadCancelled);
    }

    [Fact]
    public async Task Shutdown_lets_a_connection_go_two_seconds_after_a_close_nobody_answers()
    {
        await using var harness = new ShardHarness();
        var connection = await harness.StartReadyAsync();
        connection.AnswersClose = false;

        await harness.StopAsync();
        Assert.Equal(1000, await connection.Closed.WaitAsync(Timeouts.Signal));

        harness.Advance(1999);
        Assert.False(harness.Running.IsCompleted);
        Assert.False(connection.ReadCancelled);

        harness.Advance(1);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => harness.Running.WaitAsync(Timeouts.Signal));
        Assert.True(connection.ReadCancelled);
    }

    [Fact]
    public async Task Reconnect_request_op7_resumes_on_the_resume_url()
    {
        await using var harness = new ShardHarness();
        var connection = await harness.StartReadyAsync();

        await connection.OpAsync(7);
        Assert.NotEqual(1000, await connection.Closed);
        harness.Advance(500);

        var next = await harness.Server.NextConnectionAsync();
        Assert.Equal("resume.test", next.Uri!.Host);
        await next.HelloAsync(ShardHarness.Interval);
        Assert.Equal(6, (await next.NextSentAsync()).GetProperty("op").GetInt32());
    }

    [Fact]
    public async Task Invalid_session_false_waits_one_to_five_seconds_then_identifies_anew_on_the_gateway_url()
    {
        await using var harness = new ShardHarness(random: 0.5);
        var connection = await harness.StartReadyAsync();
        harness.Advance(10_000); // past the 5 s identify spacing, so only the op 9 wait counts

        await connection.OpAsync(9, "false");
        await connection.Closed.WaitAsync(Timeouts.Signal);

        harness.Advance(2_999); // 1 s + 4 s × 0.5 = 3 s
        Assert.Equal(0, harness.Server.WaitingConnections);
        harness.Advance(1);

        var next = await harness.Server.NextConnectionAsync();
        Assert.Equal("gateway.test", next.Uri!.Host);
        await next.HelloAsync(ShardHarness.Interval);
        var identify = await next.NextSentAsync();
        Assert.Equal(2, identify.GetProperty("op").GetInt32());
    }

    [Theory]
    [InlineData(0.0, 1_000)]
    [InlineData(0.999, 4_996)]
    public async Task Invalid_session_wait_stays_between_one_and_five_seconds(double random, int expectedMs)
    {
        await using var harness = new ShardHarness(random: random);
        var connection = await harness.StartReadyAsync();
        harness.Advance(10_000);

        await connection.OpAsync(9, "false");
        await connection.Closed.WaitAsync(Timeouts.Signal);
        harness.Advance(expectedMs - 1);
        Assert.Equal(0, harness.Server.WaitingConnections);
        harness.Advance(1);
        await harness.Server.NextConnectionAsync();
    }

    [Fact]
    public async Task Invalid_session_true_resumes()
    {
        await using var harness = new ShardHarness();
        var connection = await harness.StartReadyAsync();

        await connection.OpAsync(9, "true");
        await connection.Closed.WaitAsync(Timeouts.Signal);
        harness.Advance(500);

        var next = await harness.Server.NextConnectionAsync();
        await next.HelloAsync(ShardHarness.Interval);
        var resume = await next.NextSentAsync();
        Assert.Equal(6, resume.GetProperty("op").GetInt32());
        Assert.Equal("session-1", resume.GetProperty("d").GetProperty("session_id").GetString());
    }

    [Theory]
    [InlineData(4004, "Discord:Token")]
    [InlineData(4010, "Discord:ShardIds")]
    [InlineData(4011, "Discord:ShardCount")]
    [InlineData(4012, "update WalverBot")]
    [InlineData(4013, "update WalverBot")]
    [InlineData(4014, "enable the Server Members intent in the Discord developer portal (Bot → Privileged Gateway Intents)")]
    public async Task Fatal_close_stops_without_reconnecting_and_says_what_to_fix(int closeCode, string advice)
    {
        await using var harness = new ShardHarness().Start();
        var connection = await harness.Server.NextConnectionAsync();
        await connection.HelloAsync(ShardHarness.Interval);
        await connection.NextSentAsync(op: 2);

        await connection.CloseFromServerAsync(closeCode);

        var fatal = await Assert.ThrowsAsync<GatewayFatalException>(() => harness.Running.WaitAsync(Timeouts.Signal));
        Assert.Equal(closeCode, fatal.CloseCode);
        Assert.Contains(advice, fatal.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(ShardHarness.Token, fatal.Message, StringComparison.Ordinal);
        Assert.Contains("stopped", harness.Status.NotReadyReason, StringComparison.Ordinal);

        harness.Advance(60 * 60 * 1000);
        Assert.Single(harness.Server.Connections);
        Assert.DoesNotContain(harness.Logs.Lines, line => line.Contains("reconnecting", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(4000)]
    [InlineData(4001)]
    [InlineData(4002)]
    [InlineData(4003)]
    [InlineData(4005)]
    [InlineData(4008)]
    [InlineData(1001)]
    public async Task Resumable_close_codes_resume(int closeCode)
    {
        await using var harness = new ShardHarness();
        var connection = await harness.StartReadyAsync();

        await connection.CloseFromServerAsync(closeCode);
        harness.Advance(500);

        var next = await harness.Server.NextConnectionAsync();
        await next.HelloAsync(ShardHarness.Interval);
        Assert.Equal(6, (await next.NextSentAsync()).GetProperty("op").GetInt32());
    }

    [Theory]
    [InlineData(4007)]
    [InlineData(4009)]
    public async Task Session_ending_close_codes_identify_a_new_session(int closeCode)
    {
        await using var harness = new ShardHarness();
        var connection = await harness.StartReadyAsync();
        harness.Advance(10_000);

        await connection.CloseFromServerAsync(closeCode);
        harness.Advance(500);

        var next = await harness.Server.NextConnectionAsync();
        Assert.Equal("gateway.test", next.Uri!.Host);
        await next.HelloAsync(ShardHarness.Interval);
        Assert.Equal(2, (await next.NextSentAsync()).GetProperty("op").GetInt32());
    }

    [Fact]
    public async Task Fifty_drops_in_a_row_are_each_resumed_without_a_new_identify()
    {
        await using var harness = new ShardHarness(random: 0.5);
        var connection = await harness.StartReadyAsync();
        var sequence = 1;

        for (var drop = 0; drop < 50; drop++)
        {
            await connection.DropAsync();
            harness.Advance(500);
            connection = await harness.Server.NextConnectionAsync();
            await connection.HelloAsync(ShardHarness.Interval);

            var resume = await connection.NextSentAsync();
            Assert.Equal(6, resume.GetProperty("op").GetInt32());
            Assert.Equal("session-1", resume.GetProperty("d").GetProperty("session_id").GetString());
            Assert.Equal(sequence, resume.GetProperty("d").GetProperty("seq").GetInt64());

            // Discord replays what was missed, then confirms.
            await connection.DispatchAsync("GUILD_ROLE_DELETE", ++sequence, """{"guild_id":"1","role_id":"2"}""");
            await connection.ResumedAsync(++sequence);
            Assert.True(harness.Status.IsReady);
        }

        Assert.Equal(51, harness.Server.Connections.Count);
        var identifies = harness.Server.Connections.SelectMany(c => c.AllSent).Count(p => p.GetProperty("op").GetInt32() == 2);
        Assert.Equal(1, identifies);
    }

    [Fact]
    public async Task Reconnects_and_sessions_are_counted_per_shard_on_the_hosts_own_meter()
    {
        await using var harness = new ShardHarness(random: 0.5, shardId: 3, shardCount: 4);
        var meterFactory = harness.Get<IMeterFactory>();
        var counted = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this harness's meter: other tests' shards run in the same process at the same time.
            if (instrument.Meter.Scope == meterFactory)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            lock (counted)
            {
                counted.Add($"{instrument.Name} {string.Join(' ', tags.ToArray().Select(t => $"{t.Key}={t.Value}"))} +{value}");
            }
        });
        listener.Start();

        var connection = await harness.StartReadyAsync();
        await connection.DropAsync();
        harness.Advance(500);
        connection = await harness.Server.NextConnectionAsync();
        await connection.HelloAsync(ShardHarness.Interval);
        await connection.NextSentAsync(); // RESUME
        await connection.ResumedAsync(2);

        string[] expected =
        [
            $"{GatewayMetrics.Sessions} shard=3 kind=ready +1",
            $"{GatewayMetrics.Reconnects} shard=3 mode=resume +1",
            $"{GatewayMetrics.Sessions} shard=3 kind=resumed +1",
        ];
        await TestWait.UntilAsync(() => { lock (counted) { return counted.Count >= expected.Length; } });
        lock (counted)
        {
            Assert.Equal(expected, counted);
        }
    }

    [Fact]
    public async Task Connections_that_fail_before_ready_back_off_longer_each_time()
    {
        await using var harness = new ShardHarness(random: 0.5);
        var connection = await harness.StartReadyAsync();

        // Healthy session dropped: 0.5 s. Then each resume attempt dies before RESUMED: 1.5 s, 3 s (ceiling × 0.75).
        int[] expected = [500, 1_500, 3_000];
        foreach (var delay in expected)
        {
            await connection.DropAsync();
            harness.Advance(delay - 1);
            Assert.Equal(0, harness.Server.WaitingConnections);
            harness.Advance(1);
            connection = await harness.Server.NextConnectionAsync();
        }
    }

    [Fact]
    public async Task After_five_failed_resumes_in_a_row_a_new_session_is_identified_on_the_gateway_url()
    {
        await using var harness = new ShardHarness(random: 0.5);
        var connection = await harness.StartReadyAsync();

        for (var attempt = 0; attempt < 6; attempt++)
        {
            await connection.DropAsync();
            harness.Advance(60_000); // longer than any backoff step and than the identify spacing
            connection = await harness.Server.NextConnectionAsync();
            Assert.Equal(attempt < 5 ? "resume.test" : "gateway.test", connection.Uri!.Host);
        }

        await connection.HelloAsync(ShardHarness.Interval);
        Assert.Equal(2, (await connection.NextSentAsync()).GetProperty("op").GetInt32());
    }

    [Fact]
    public async Task A_connection_without_hello_is_given_up_after_thirty_seconds()
    {
        await using var harness = new ShardHarness(random: 0.5).Start();
        var silent = await harness.Server.NextConnectionAsync();

        harness.Advance(29_999);
        Assert.False(silent.Closed.IsCompleted);
        harness.Advance(1);
        await silent.Closed.WaitAsync(Timeouts.Signal);

        harness.Advance(1_500); // first failed attempt: 2 s ceiling × 0.75
        var next = await harness.Server.NextConnectionAsync();
        await next.HelloAsync(ShardHarness.Interval);
        Assert.Equal(2, (await next.NextSentAsync()).GetProperty("op").GetInt32());
    }

    [Fact]
    public async Task Readiness_follows_the_session()
    {
        await using var harness = new ShardHarness().Start();
        Assert.False(harness.Status.IsReady);

        var connection = await harness.Server.NextConnectionAsync();
        Assert.Equal("shard 0: connecting", harness.Status.NotReadyReason);
        await connection.HelloAsync(ShardHarness.Interval);
        await connection.ReadyAsync();
        Assert.True(harness.Status.IsReady);
        Assert.Null(harness.Status.NotReadyReason);

        await connection.DropAsync();
        Assert.False(harness.Status.IsReady);
        Assert.StartsWith("shard 0: reconnecting", harness.Status.NotReadyReason, StringComparison.Ordinal);

        harness.Advance(500);
        var next = await harness.Server.NextConnectionAsync();
        await next.HelloAsync(ShardHarness.Interval);
        Assert.False(harness.Status.IsReady);
        await next.ResumedAsync(2);
        Assert.True(harness.Status.IsReady);
    }

    [Fact]
    public async Task Dispatches_reach_handlers_and_a_throwing_handler_does_not_end_the_session()
    {
        var members = new RecordingHandler<GuildMemberAddEvent>();
        var interactions = new RecordingHandler<InteractionCreateEvent>();
        await using var harness = new ShardHarness(configure: services =>
        {
            services.AddSingleton<IGatewayEventHandler<GuildMemberAddEvent>>(new ThrowingHandler<GuildMemberAddEvent>());
            services.AddSingleton<IGatewayEventHandler<GuildMemberAddEvent>>(members);
            services.AddSingleton<IGatewayEventHandler<InteractionCreateEvent>>(interactions);
        });
        var connection = await harness.StartReadyAsync();

        await connection.DeliverAsync(Samples.Payload("GUILD_MEMBER_ADD"));
        await connection.DeliverAsync(Samples.Payload("INTERACTION_CREATE"));

        var joined = await members.NextAsync();
        Assert.Equal(197038439483310086UL, joined.GuildId);
        Assert.Equal("mason", joined.Member.User.Username);
        Assert.Equal(0, joined.ShardId);
        var interaction = (await interactions.NextAsync()).Interaction;
        Assert.Equal("walver", interaction.Data!.Name);

        await connection.OpAsync(1);
        Assert.Equal(1, (await connection.NextSentAsync()).GetProperty("op").GetInt32());
        Assert.False(connection.Closed.IsCompleted);
        Assert.Contains(harness.Logs.Entries, e => e.Exception is InvalidOperationException && e.Message.Contains("ThrowingHandler", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unreadable_dispatch_is_logged_and_skipped_and_the_next_one_is_handled()
    {
        var members = new RecordingHandler<GuildMemberAddEvent>();
        await using var harness = new ShardHarness(configure: services =>
            services.AddSingleton<IGatewayEventHandler<GuildMemberAddEvent>>(members));
        var connection = await harness.StartReadyAsync();

        // No guild_id: the member cannot be placed, so the event is not handled at all.
        await connection.DispatchAsync("GUILD_MEMBER_ADD", 2, """{"user":{"id":"2","username":"ghost"},"roles":[]}""");
        await connection.DeliverAsync(Samples.Payload("GUILD_MEMBER_ADD"));

        var joined = await members.NextAsync();
        Assert.Equal("mason", joined.Member.User.Username);
        Assert.Contains(harness.Logs.Entries, e => e.Exception is JsonException
            && e.Message.Contains("could not read a GUILD_MEMBER_ADD dispatch; it is skipped", StringComparison.Ordinal));
        Assert.False(connection.Closed.IsCompleted);
        Assert.True(harness.Status.IsReady);
    }

    [Fact]
    public async Task Guild_events_update_the_cache()
    {
        await using var harness = new ShardHarness();
        var connection = await harness.StartReadyAsync();

        await connection.DeliverAsync(Samples.Payload("GUILD_CREATE"));
        await connection.DispatchAsync("GUILD_ROLE_UPDATE", 3, """
            {"guild_id":"197038439483310086","role":{"id":"1170000000000000010","name":"Verified Holder","position":9,"permissions":"0","managed":false}}
            """);
        // Each shard applies its events in order; a later ping shows the ones before it are in.
        await connection.DispatchAsync("GUILD_ROLE_DELETE", 4, """{"guild_id":"197038439483310086","role_id":"1170000000000000030"}""");

        var guild = await EventuallyAsync(() => harness.Cache.GetGuild(197038439483310086UL) is { } g && !g.Roles.ContainsKey(1170000000000000030UL) ? g : null);
        Assert.Equal(9, guild.Roles[1170000000000000010UL].Position);
        Assert.Equal(5, guild.BotHighestRolePosition);
    }

    internal static async Task<T> EventuallyAsync<T>(Func<T?> probe)
        where T : class =>
        (await Eventually.UntilAsync(probe, value => value is not null, "the expected state", Timeouts.Signal))!;
}
