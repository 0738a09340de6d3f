using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;
using WalverBot.Discord.Rest.RateLimits;
using WalverBot.Discord.Tests.Rest.Fakes;

namespace WalverBot.Discord.Tests.Rest;

/// <summary>
/// Discord's documented rate limits (https://discord.com/developers/docs/topics/rate-limits), driven
/// by a fake clock: "not sent yet" is asserted before time moves, never by sleeping.
/// </summary>
public sealed class RateLimitTests : IDisposable
{
    private const string RolesJson = "[]";
    private const string MemberJson = """{"user":{"id":"2","username":"nelly"},"roles":[]}""";
    private const string GuildJson = """{"id":"1","name":"g","owner_id":"3","roles":[]}""";

    private readonly RestHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private IDiscordRestClient Client => _harness.Client;

    private ScriptedHttpHandler Http => _harness.Http;

    [Fact]
    public async Task EmptyBucket_NextRequestWaitsBeforeSending_UntilResetAfter()
    {
        Http.Enqueue(Responses.Limited(RolesJson, "roles-hash", remaining: 0, resetAfter: 2.5));
        await Client.GetGuildRolesAsync(1, CancellationToken.None).Within();

        Http.Enqueue(Responses.Json(HttpStatusCode.OK, RolesJson));
        var second = Client.GetGuildRolesAsync(1, CancellationToken.None);
        Assert.Equal(1, Http.Count);

        _harness.Time.Advance(TimeSpan.FromSeconds(2.4));
        Assert.Equal(1, Http.Count);
        Assert.False(second.IsCompleted);

        _harness.Time.Advance(TimeSpan.FromSeconds(0.1));
        await second.Within();
        Assert.Equal(2, Http.Count);
    }

    [Fact]
    public async Task BucketWithRequestsLeft_DoesNotWait()
    {
        Http.Enqueue(Responses.Limited(RolesJson, "roles-hash", remaining: 1, resetAfter: 60));
        await Client.GetGuildRolesAsync(1, CancellationToken.None).Within();

        Http.Enqueue(Responses.Json(HttpStatusCode.OK, RolesJson));
        await Client.GetGuildRolesAsync(1, CancellationToken.None).Within();

        Assert.Equal(2, Http.Count);
    }

    [Fact]
    public async Task RoutesAnsweringTheSameBucketHash_ShareItsLimit()
    {
        // Roles and members of one guild turn out to share bucket "shared"; the member call empties it.
        Http.Enqueue(Responses.Limited(RolesJson, "shared", remaining: 1, resetAfter: 5));
        Http.Enqueue(Responses.Limited(MemberJson, "shared", remaining: 0, resetAfter: 5));
        await Client.GetGuildRolesAsync(1, CancellationToken.None).Within();
        await Client.GetGuildMemberAsync(1, 2, CancellationToken.None).Within();

        Http.Enqueue(Responses.Json(HttpStatusCode.OK, RolesJson));
        var roles = Client.GetGuildRolesAsync(1, CancellationToken.None);
        Assert.Equal(2, Http.Count);

        _harness.Time.Advance(TimeSpan.FromSeconds(5));
        await roles.Within();
        Assert.Equal(3, Http.Count);
    }

    [Fact]
    public async Task SameRouteInAnotherGuild_HasItsOwnBucket()
    {
        Http.Enqueue(Responses.Limited(MemberJson, "members", remaining: 0, resetAfter: 30));
        await Client.GetGuildMemberAsync(1, 2, CancellationToken.None).Within();

        Http.Enqueue(Responses.Json(HttpStatusCode.OK, MemberJson));
        await Client.GetGuildMemberAsync(99, 2, CancellationToken.None).Within();
        Assert.Equal(2, Http.Count);

        // …while guild 1 still waits.
        Http.Enqueue(Responses.Json(HttpStatusCode.OK, MemberJson));
        var sameGuild = Client.GetGuildMemberAsync(1, 3, CancellationToken.None);
        Assert.Equal(2, Http.Count);
        _harness.Time.Advance(TimeSpan.FromSeconds(30));
        await sameGuild.Within();
        Assert.Equal(3, Http.Count);
    }

    [Fact]
    public async Task ConcurrentCallers_OnOneBucket_GoOneAtATime_AndHonourTheAnswer()
    {
        // Nothing is known about the bucket yet: the second caller must wait for the first answer, not guess.
        var firstAnswer = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        Http.Enqueue((_, _) => firstAnswer.Task);
        Http.Enqueue(Responses.Json(HttpStatusCode.OK, RolesJson));
        var first = Client.GetGuildRolesAsync(1, CancellationToken.None);
        await TestWait.UntilAsync(() => Http.Count == 1);
        var second = Client.GetGuildRolesAsync(1, CancellationToken.None);
        Assert.Equal(1, Http.Count);
        Assert.False(second.IsCompleted);

        firstAnswer.SetResult(Responses.Limited(RolesJson, "roles-hash", remaining: 0, resetAfter: 10));
        await first.Within();
        Assert.Equal(1, Http.Count);

        // The second caller wakes on another thread: move the clock only once it waits for the reset.
        await _harness.Time.WhenArmedAsync(TimeSpan.FromSeconds(10));
        _harness.Time.Advance(TimeSpan.FromSeconds(10));
        await second.Within();
        Assert.Equal(2, Http.Count);
    }

    [Fact]
    public async Task UserScoped429_IsRetriedAfterRetryAfter_AndSucceeds()
    {
        Http.Enqueue(Responses.TooManyRequests(1.5, "user", bucket: "roles-hash"));

        var call = Client.GetGuildRolesAsync(1, CancellationToken.None);
        await _harness.Time.WhenArmedAsync(TimeSpan.FromSeconds(1.5));
        _harness.Time.Advance(TimeSpan.FromSeconds(1.4));
        Assert.Equal(1, Http.Count);

        // Only that bucket is paused: another guild's call goes out meanwhile.
        Http.Enqueue(Responses.Json(HttpStatusCode.OK, RolesJson));
        await Client.GetGuildRolesAsync(2, CancellationToken.None).Within();
        Assert.Equal(2, Http.Count);

        Http.Enqueue(Responses.Json(HttpStatusCode.OK, """[{"id":"5","name":"Verified","position":1,"permissions":"0","managed":false}]"""));
        _harness.Time.Advance(TimeSpan.FromSeconds(0.1));
        var roles = await call.Within();
        Assert.Equal(5UL, Assert.Single(roles).Id);
        Assert.Equal(3, Http.Count);
    }

    [Fact]
    public async Task Global429_PausesEveryRequest_ExceptInteractionResponses()
    {
        Http.Enqueue(Responses.TooManyRequests(2, "global"));
        var rateLimited = Client.GetGuildRolesAsync(1, CancellationToken.None);
        await _harness.Time.WhenArmedAsync(TimeSpan.FromSeconds(2));

        var otherRoute = Client.GetChannelAsync(77, CancellationToken.None);
        Assert.Equal(1, Http.Count);

        // "Interaction endpoints are not bound to the bot's Global Rate Limit."
        Http.Enqueue(Responses.Json(HttpStatusCode.NoContent, ""));
        await Client.CreateInteractionResponseAsync(5, "tok", InteractionResponse.Defer(ephemeral: false), CancellationToken.None).Within();
        Assert.Equal(2, Http.Count);

        _harness.Time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.Equal(2, Http.Count);
        Assert.False(rateLimited.IsCompleted || otherRoute.IsCompleted);

        // Both callers are released at the same instant and may reach Discord in either order.
        ScriptedHttpHandler.Responder byRoute = (request, _) => Task.FromResult(request.RequestUri!.AbsolutePath.Contains("/channels/", StringComparison.Ordinal)
            ? Responses.Json(HttpStatusCode.OK, """{"id":"77","type":0}""")
            : Responses.Json(HttpStatusCode.OK, RolesJson));
        Http.Enqueue(byRoute);
        Http.Enqueue(byRoute);
        _harness.Time.Advance(TimeSpan.FromSeconds(0.1));
        await Task.WhenAll(rateLimited, otherRoute).Within();
        Assert.Equal(4, Http.Count);
    }

    [Fact]
    public async Task Repeated429_CostsOneRetry_ThenGivesUpWithRetryAfter()
    {
        for (var i = 0; i < 3; i++)
        {
            Http.Enqueue(Responses.TooManyRequests(1.25, "user", bucket: "roles-hash"));
        }

        var call = Client.GetGuildRolesAsync(1, CancellationToken.None);
        await _harness.Time.WhenArmedAsync(TimeSpan.FromSeconds(1.25));
        _harness.Time.Advance(TimeSpan.FromSeconds(1.25));

        var error = await Assert.ThrowsAsync<DiscordRestException>(() => call.Within());
        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1.25), error.RetryAfter);
        Assert.True(error.IsTransient);
        // The first try and one retry: a 429 never turns into a storm of them.
        Assert.Equal(2, Http.Count);
    }

    [Fact]
    public async Task LongRetryAfter_IsNotWaitedOutInsideTheCall()
    {
        Http.Enqueue(Responses.TooManyRequests(1336.57, "shared", bucket: "roles-hash"));

        var error = await Assert.ThrowsAsync<DiscordRestException>(() => Client.GetGuildRolesAsync(1, CancellationToken.None).Within());

        Assert.Equal(TimeSpan.FromSeconds(1336.57), error.RetryAfter);
        Assert.Equal(1, Http.Count);
        // The bucket stays paused for later callers.
        var later = Client.GetGuildRolesAsync(1, CancellationToken.None);
        _harness.Time.Advance(TimeSpan.FromSeconds(1000));
        Assert.Equal(1, Http.Count);
        Assert.False(later.IsCompleted);
    }

    [Fact]
    public async Task GlobalLimit_AllowsFiftyRequestsPerSecond()
    {
        Http.Fallback = (_, _) => Task.FromResult(Responses.Json(HttpStatusCode.OK, GuildJson));
        for (ulong guild = 1; guild <= 50; guild++)
        {
            await Client.GetGuildAsync(guild, CancellationToken.None).Within();
        }

        var fiftyFirst = Client.GetGuildAsync(51, CancellationToken.None);
        Assert.Equal(50, Http.Count);

        // Interaction responses don't count against, nor wait for, the global limit.
        await Client.CreateInteractionResponseAsync(5, "tok", InteractionResponse.Defer(ephemeral: true), CancellationToken.None).Within();
        Assert.Equal(51, Http.Count);
        Assert.False(fiftyFirst.IsCompleted);

        _harness.Time.Advance(TimeSpan.FromSeconds(1));
        await fiftyFirst.Within();
        Assert.Equal(52, Http.Count);
    }

    [Fact]
    public async Task GlobalRateLimitSetting_PacesRequests_ToThatManyPerSecond()
    {
        // Discord:GlobalRateLimit = 5: this process's share when ten processes run on one token (50/s each token).
        using var harness = new RestHarness(configure: options => options.GlobalRateLimit = 5);
        harness.Http.Fallback = (_, _) => Task.FromResult(Responses.Json(HttpStatusCode.OK, GuildJson));

        // Twelve guilds, twelve buckets: only the global limit holds them back.
        var calls = Enumerable.Range(1, 12).Select(guild => harness.Client.GetGuildAsync((ulong)guild, CancellationToken.None)).ToList();
        await TestWait.UntilAsync(() => harness.Http.Count == 5);
        await harness.Time.WhenArmedAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(5, harness.Http.Count);

        harness.Time.Advance(TimeSpan.FromSeconds(1));
        await TestWait.UntilAsync(() => harness.Http.Count == 10);
        await harness.Time.WhenArmedAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(10, harness.Http.Count);

        harness.Time.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAll(calls).Within();
        Assert.Equal(12, harness.Http.Count);
    }

    [Fact]
    public async Task CancellingWhileWaitingForReset_SendsNothing_AndFreesTheBucket()
    {
        Http.Enqueue(Responses.Limited(RolesJson, "roles-hash", remaining: 0, resetAfter: 10));
        await Client.GetGuildRolesAsync(1, CancellationToken.None).Within();
        using var cancellation = new CancellationTokenSource();

        var waiting = Client.GetGuildRolesAsync(1, cancellation.Token);
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.Within());
        Assert.Equal(1, Http.Count);
        Http.Enqueue(Responses.Json(HttpStatusCode.OK, RolesJson));
        _harness.Time.Advance(TimeSpan.FromSeconds(10));
        await Client.GetGuildRolesAsync(1, CancellationToken.None).Within();
        Assert.Equal(2, Http.Count);
    }

    [Fact]
    public async Task InvalidRequests_OverTheThreshold_LogOneWarning_AndSharedScopeIsNotCounted()
    {
        using var harness = new RestHarness(new DiscordRestSettings { InvalidRequestWarningThreshold = 3, MaxAttempts = 1 });
        var monitor = harness.Services.GetRequiredService<InvalidRequestMonitor>();
        harness.Http.Enqueue(Responses.TooManyRequests(0.5, "shared", bucket: "b"));
        for (var i = 0; i < 4; i++)
        {
            harness.Http.Enqueue(Responses.Json(HttpStatusCode.Forbidden, """{"message":"Missing Permissions","code":50013}"""));
        }

        await Assert.ThrowsAsync<DiscordRestException>(() => harness.Client.GetGuildRolesAsync(1, CancellationToken.None).Within());
        Assert.Equal(0, monitor.Count);
        for (ulong guild = 10; guild < 14; guild++)
        {
            await Assert.ThrowsAsync<DiscordRestException>(() => harness.Client.AddGuildMemberRoleAsync(guild, 2, 3, null, CancellationToken.None).Within());
        }

        Assert.Equal(4, monitor.Count);
        var warning = Assert.Single(harness.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("invalid Discord requests"));
        Assert.Contains("PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}", warning.Message);

        harness.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(0, monitor.Count);
    }

    [Fact]
    public async Task Metrics_RecordDurationByRouteAndStatus_And429sByBucket()
    {
        var meterFactory = _harness.Services.GetRequiredService<IMeterFactory>();
        var durations = new List<(double Value, string? Route, string? Status)>();
        var rateLimited = new List<(long Value, string? Bucket, string? Scope)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == DiscordMetrics.MeterName && instrument.Meter.Scope == meterFactory)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            lock (durations)
            {
                durations.Add((value, Tag(tags, "route"), Tag(tags, "status")));
            }
        });
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            lock (rateLimited)
            {
                rateLimited.Add((value, Tag(tags, "bucket"), Tag(tags, "scope")));
            }
        });
        listener.Start();

        Http.Enqueue(Responses.TooManyRequests(1, "user", bucket: "roles-hash"));
        Http.Enqueue(Responses.Json(HttpStatusCode.OK, RolesJson));
        var call = Client.GetGuildRolesAsync(1, CancellationToken.None);
        await _harness.Time.WhenArmedAsync(TimeSpan.FromSeconds(1));
        _harness.Time.Advance(TimeSpan.FromSeconds(1));
        await call.Within();

        lock (durations)
        {
            Assert.Equal([("GET /guilds/{guild_id}/roles", "429"), ("GET /guilds/{guild_id}/roles", "200")], durations.Select(d => (d.Route, d.Status)));
        }

        lock (rateLimited)
        {
            Assert.Equal([(1L, "roles-hash", "user")], rateLimited);
        }
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
