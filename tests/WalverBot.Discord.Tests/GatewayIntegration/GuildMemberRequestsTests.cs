using Microsoft.Extensions.DependencyInjection;
using WalverBot.Discord.Gateway;
using WalverBot.Testing.FakeDiscord;

namespace WalverBot.Discord.Tests.GatewayIntegration;

/// <summary>Request Guild Members (op 8) through the real gateway client against the fake gateway.</summary>
public sealed class GuildMemberRequestsTests
{
    private static readonly ulong Guild = ulong.Parse(GatewayWorld.GuildId, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Members_are_found_by_user_ids_and_by_username_prefix()
    {
        await using var world = await GatewayWorld.StartAsync(seed: discord =>
        {
            discord.AddMember(GatewayWorld.GuildId, new FakeMember("4400000000000000101", "tara"));
            discord.AddMember(GatewayWorld.GuildId, new FakeMember("4400000000000000102", "tara_two"));
            discord.AddMember(GatewayWorld.GuildId, new FakeMember("4400000000000000103", "zed") { Nick = "tara" });
        });
        await world.WaitForSessionAsync();
        var requests = world.Host.Services.GetRequiredService<IGuildMemberRequests>();

        var byIds = await requests.RequestByIdsAsync(Guild, [4400000000000000101UL, 4400000000000000999UL], CancellationToken.None);
        Assert.Equal([4400000000000000101UL], byIds.Members.Select(m => m.User.Id));
        Assert.Equal([4400000000000000999UL], byIds.NotFound);

        var byName = await requests.SearchByUsernameAsync(Guild, "tara", 100, CancellationToken.None);
        Assert.Equal(["tara", "tara_two"], byName.Members.Select(m => m.User.Username).Order(StringComparer.Ordinal));

        // Each request carried a nonce Discord accepts (at most 32 bytes), and they were told apart by it.
        Assert.All(world.Gateway.MemberRequests, r => Assert.InRange(r.Nonce!.Length, 1, 32));
        Assert.Equal(2, world.Gateway.MemberRequests.Select(r => r.Nonce).Distinct().Count());
        Assert.Equal(("tara", 100), (world.Gateway.MemberRequests[1].Query, world.Gateway.MemberRequests[1].Data["limit"]!.GetValue<int>()));
    }

    [Fact]
    public async Task More_than_100_user_ids_or_an_empty_query_are_refused_before_sending()
    {
        await using var world = await GatewayWorld.StartAsync();
        await world.WaitForSessionAsync();
        var requests = world.Host.Services.GetRequiredService<IGuildMemberRequests>();

        var ids = Enumerable.Range(1, 101).Select(i => 4400000000000001000UL + (ulong)i).ToList();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => requests.RequestByIdsAsync(Guild, ids, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => requests.SearchByUsernameAsync(Guild, "", 100, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => requests.SearchByUsernameAsync(Guild, "a", 101, CancellationToken.None));
        Assert.Empty(world.Gateway.MemberRequests);
    }

    [Fact]
    public async Task An_unanswered_request_ends_as_gateway_unavailable()
    {
        await using var world = await GatewayWorld.StartAsync(services => services.AddSingleton(sp =>
            new GuildMemberRequests(sp.GetRequiredService<DiscordGatewayClient>(), TimeProvider.System) { Timeout = TimeSpan.FromMilliseconds(500) }));
        await world.WaitForSessionAsync();
        var requests = world.Host.Services.GetRequiredService<IGuildMemberRequests>();
        world.Gateway.FreezeConnection(); // what the bot sends still arrives; nothing comes back

        var failure = await Assert.ThrowsAsync<GatewayUnavailableException>(() => requests.RequestByIdsAsync(Guild, [4400000000000000100UL], CancellationToken.None));

        Assert.Contains("did not answer", failure.Message, StringComparison.Ordinal);
        // The op 8 left the bot before its 500 ms began, but the fake's receive loop records it on its own thread,
        // which a loaded machine may run after the bot's timer: wait for the record, then count.
        await world.Gateway.WaitForMemberRequestsAsync(1, GatewayWorld.WaitTimeout);
        Assert.Single(world.Gateway.MemberRequests);
    }

    [Fact]
    public async Task A_shard_between_sessions_is_unavailable_at_once()
    {
        await using var world = await GatewayWorld.StartAsync();
        var requests = world.Host.Services.GetRequiredService<IGuildMemberRequests>();
        await world.WaitForSessionAsync();
        await world.Gateway.SendInvalidSessionAsync(resumable: false);
        await GatewayWorld.EventuallyAsync(() => !world.Status.IsReady, "the session to end");

        await Assert.ThrowsAsync<GatewayUnavailableException>(() => requests.RequestByIdsAsync(Guild, [4400000000000000100UL], CancellationToken.None));
    }
}
