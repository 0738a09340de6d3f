using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Testing.FakeDiscord;

namespace WalverBot.Discord.Tests.GatewayIntegration;

/// <summary>The member directory filled by the real gateway client from the fake gateway's op 8 answers.</summary>
public sealed class MemberDirectoryFillTests
{
    private static readonly ulong Guild = ulong.Parse(GatewayWorld.GuildId, CultureInfo.InvariantCulture);

    private static IMemberDirectory Directory(GatewayWorld world) => world.Host.Services.GetRequiredService<IMemberDirectory>();

    private static async Task CompleteAsync(GatewayWorld world)
    {
        try
        {
            await GatewayWorld.EventuallyAsync(() => Directory(world).IsComplete(Guild), "the guild's member directory to be complete", TimeSpan.FromSeconds(180));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; {Directory(world).Stats}; {world.Gateway.MemberRequests.Count} op 8 request(s){Environment.NewLine}{world.Describe()}", ex);
        }
    }

    [Fact]
    public async Task A_guild_over_75000_members_whose_GUILD_CREATE_carries_only_the_bot_is_complete_after_one_all_members_request()
    {
        const int Crowd = 75_500;
        // Discord's own heartbeat interval (41.25 s): the world's 1 s would call the connection a zombie while a loaded
        // machine parses 76 chunks, which is not what this test is about.
        await using var world = await GatewayWorld.StartAsync(memberDirectory: true, gatewayOptions: o => o.HeartbeatIntervalMs = 41_250, seed: discord =>
        {
            for (var i = 0; i < Crowd; i++)
            {
                discord.AddMember(GatewayWorld.GuildId, new FakeMember((5_000_000_000_000_000_000UL + (ulong)i).ToString(CultureInfo.InvariantCulture), $"crowd{i:D6}"));
            }
        });

        await CompleteAsync(world);

        var total = Crowd + 2; // alice and the bot
        var created = Assert.Single(world.Events.Of<GuildCreateEvent>());
        Assert.True(created.Guild.Members.Count < 10, $"GUILD_CREATE carried {created.Guild.Members.Count} members");
        var request = Assert.Single(world.Gateway.AllMembersRequests);
        Assert.Equal(GatewayWorld.GuildId, request.GuildId);
        Assert.InRange(request.Nonce!.Length, 1, 32);
        Assert.Equal(total, Directory(world).Stats.Members);
        Assert.True(Directory(world).TryFindByUsername(Guild, "CROWD075499", out var found));
        Assert.Equal(5_000_000_000_000_075_499UL, Assert.Single(found).User.Id);
        // Discord answered in 1000-member chunks; the directory waited for all of them. The line is written just after
        // the directory is marked complete, outside its lock, so it is waited for.
        var summary = $"{total} members in {(total + 999) / 1000} chunk(s)";
        await GatewayWorld.EventuallyAsync(() => world.Logs.Lines.Any(l => l.Contains(summary, StringComparison.Ordinal)), $"a log line with \"{summary}\"");
    }

    [Fact]
    public async Task Member_events_after_the_fill_keep_the_directory_current()
    {
        await using var world = await GatewayWorld.StartAsync(memberDirectory: true);
        await CompleteAsync(world);

        world.Discord.AddMember(GatewayWorld.GuildId, new FakeMember("4400000000000000101", "tara") { Roles = [GatewayWorld.VerifiedRoleId] });
        await world.Gateway.DispatchAsync("GUILD_MEMBER_ADD", world.Discord.MemberEventJson(GatewayWorld.GuildId, "4400000000000000101"));
        world.Discord.AddMember(GatewayWorld.GuildId, new FakeMember(GatewayWorld.AliceId, "alice_renamed"));
        await world.Gateway.DispatchAsync("GUILD_MEMBER_UPDATE", world.Discord.MemberEventJson(GatewayWorld.GuildId, GatewayWorld.AliceId));

        await GatewayWorld.EventuallyAsync(
            () => Directory(world).TryFindByUsername(Guild, "alice_renamed", out var m) && m.Count == 1
                && Directory(world).TryGetMember(Guild, 4400000000000000101UL, out var tara) && tara is not null,
            "the join and the rename in the directory");
        Assert.True(Directory(world).TryFindByUsername(Guild, "alice", out var old));
        Assert.Empty(old);
        Assert.True(Directory(world).TryGetMember(Guild, 4400000000000000101UL, out var member));
        Assert.Equal([ulong.Parse(GatewayWorld.VerifiedRoleId, CultureInfo.InvariantCulture)], member!.Roles);
    }

    [Fact]
    public async Task A_resumed_session_keeps_the_directory_and_a_new_session_fills_it_again()
    {
        await using var world = await GatewayWorld.StartAsync(memberDirectory: true);
        await CompleteAsync(world);

        await world.Gateway.SendReconnectAsync();
        await world.Gateway.WaitForResumedAsync(timeout: GatewayWorld.WaitTimeout);
        // A member event after the resume is applied, and the resume brought no GUILD_CREATE, so no second fill.
        world.Discord.AddMember(GatewayWorld.GuildId, new FakeMember("4400000000000000101", "tara"));
        await world.Gateway.DispatchAsync("GUILD_MEMBER_ADD", world.Discord.MemberEventJson(GatewayWorld.GuildId, "4400000000000000101"));
        await GatewayWorld.EventuallyAsync(() => Directory(world).TryGetMember(Guild, 4400000000000000101UL, out var m) && m is not null, "tara after the resume");
        Assert.Single(world.Gateway.AllMembersRequests);

        // A new session (op 9, not resumable) may have missed events: the directory is filled anew, at once.
        await world.Gateway.SendInvalidSessionAsync(resumable: false);
        await world.Gateway.WaitUntilAsync(g => g.AllMembersRequests.Count == 2, GatewayWorld.WaitTimeout, "a second all-members request");
        await CompleteAsync(world);
        Assert.Equal(0, world.Gateway.AllMembersRateLimited);
        Assert.NotEqual(world.Gateway.AllMembersRequests[0].ConnectionId, world.Gateway.AllMembersRequests[1].ConnectionId);
    }
}
