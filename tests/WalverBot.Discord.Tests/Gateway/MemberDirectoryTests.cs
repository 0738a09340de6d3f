using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Tests.Gateway;

/// <summary>The member directory fed event by event, as the dispatcher applies a shard's events in sequence order.</summary>
public sealed class MemberDirectoryTests
{
    private const ulong Guild = 1200000000000000001;
    private const ulong RoleA = 1300000000000000010, RoleB = 1300000000000000011;

    private readonly FakeTimeProvider _time = new();
    private readonly MemberDirectory _directory;

    public MemberDirectoryTests() => _directory = Create(enabled: true);

    private MemberDirectory Create(bool enabled) => new(
        Options.Create(new DiscordOptions { MemberDirectory = enabled }), _time, NullLogger<MemberDirectory>.Instance,
        new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());

    private static GuildMember Member(ulong id, string username, string discriminator = "0", bool bot = false, string? nick = null, params ulong[] roles) =>
        new(new DiscordUser(id, username, discriminator, null, bot), nick, roles);

    private static GuildMembersChunkEvent Chunk(string nonce, int index, int count, params GuildMember[] members) =>
        new(Guild, members, index, count, [], nonce);

    private MemberDirectory.FillHandle Created(params GuildMember[] sentInGuildCreate)
    {
        _directory.Apply(new GuildCreateEvent(new GatewayGuild(Guild, "g", 1, [], sentInGuildCreate, [], 10)));
        Assert.True(_directory.FillsWanted.TryRead(out var wanted));
        Assert.Equal(Guild, wanted);
        return _directory.BeginFill(Guild, "n1") ?? throw new InvalidOperationException("no fill");
    }

    private GuildMember? ById(ulong id) => _directory.TryGetMember(Guild, id, out var member) ? member : throw new InvalidOperationException("incomplete");

    private IReadOnlyList<GuildMember> ByName(string name) =>
        _directory.TryFindByUsername(Guild, name, out var members) ? members : throw new InvalidOperationException("incomplete");

    [Fact]
    public async Task A_guild_is_complete_only_once_every_chunk_of_its_nonce_arrived_in_any_order()
    {
        var fill = Created();

        _directory.Apply(Chunk("n1", 2, 3, Member(3, "carol")));
        _directory.Apply(Chunk("n1", 0, 3, Member(1, "alice")));
        Assert.False(_directory.IsComplete(Guild));
        Assert.False(_directory.TryGetMember(Guild, 1, out _));
        Assert.False(_directory.TryFindByUsername(Guild, "alice", out _));

        _directory.Apply(Chunk("n1", 0, 3, Member(1, "alice"))); // a repeated index counts once
        Assert.False(_directory.IsComplete(Guild));
        _directory.Apply(Chunk("n1", 1, 3, Member(2, "bob")));

        Assert.True(_directory.IsComplete(Guild));
        Assert.True(fill.Done.IsCompleted);
        Assert.Equal(FillOutcome.Completed, await fill.Done);
        Assert.Equal(new MemberDirectoryStats(1, 1, 3), _directory.Stats);
        Assert.Equal(2UL, Assert.Single(ByName("BOB")).User.Id);
    }

    [Fact]
    public void Chunks_of_another_nonce_or_out_of_range_are_not_the_member_list()
    {
        Created();

        _directory.Apply(Chunk("other", 0, 1, Member(9, "mallory")));
        _directory.Apply(Chunk("n1", 5, 2, Member(9, "mallory")));
        _directory.Apply(new GuildMembersChunkEvent(Guild, [Member(9, "mallory")], 0, 1, [], null));
        Assert.False(_directory.IsComplete(Guild));

        _directory.Apply(Chunk("n1", 0, 1, Member(1, "alice")));
        Assert.True(_directory.IsComplete(Guild));
        Assert.Null(ById(9));
        Assert.Empty(ByName("mallory"));
    }

    [Fact]
    public void Joins_renames_and_leaves_during_the_chunking_win_over_older_chunk_data()
    {
        Created();
        _directory.Apply(Chunk("n1", 0, 3, Member(1, "alice")));

        // Events after the request: bob renames to robert, carol leaves, dave joins, alice gets a role.
        _directory.Apply(new GuildMemberUpdateEvent(Guild, Member(2, "robert")));
        _directory.Apply(new GuildMemberRemoveEvent(Guild, new DiscordUser(3, "carol")));
        _directory.Apply(new GuildMemberAddEvent(Guild, Member(4, "dave")));
        _directory.Apply(new GuildMemberUpdateEvent(Guild, Member(1, "alice", roles: [RoleA])));

        // Later chunks were read before those events: they still show bob, carol, and no dave.
        _directory.Apply(Chunk("n1", 1, 3, Member(2, "bob"), Member(3, "carol")));
        _directory.Apply(Chunk("n1", 2, 3, Member(1, "alice")));

        Assert.True(_directory.IsComplete(Guild));
        Assert.Empty(ByName("bob"));
        Assert.Equal(2UL, Assert.Single(ByName("robert")).User.Id);
        Assert.Null(ById(3));
        Assert.Empty(ByName("carol"));
        Assert.Equal(4UL, Assert.Single(ByName("dave")).User.Id);
        Assert.Equal([RoleA], ById(1)!.Roles);
    }

    [Fact]
    public void A_remove_then_add_of_the_same_member_keeps_the_member_with_the_new_name()
    {
        Created();
        _directory.Apply(Chunk("n1", 0, 1, Member(1, "alice", roles: [RoleA])));

        _directory.Apply(new GuildMemberRemoveEvent(Guild, new DiscordUser(1, "alice")));
        Assert.Null(ById(1));
        Assert.Empty(ByName("alice"));

        _directory.Apply(new GuildMemberAddEvent(Guild, Member(1, "alice2")));
        Assert.Empty(ByName("alice"));
        var back = Assert.Single(ByName("alice2"));
        Assert.Empty(back.Roles); // a rejoin starts without the old roles
        Assert.Equal(1L, _directory.Stats.Members);
    }

    [Fact]
    public void Names_compare_ascii_letters_only_and_nicknames_are_not_kept()
    {
        Created();
        _directory.Apply(Chunk("n1", 0, 1,
            Member(1, "Alice"), Member(2, "\u0430lice"), Member(3, "alice_fan"), Member(4, "bob", nick: "alice"), Member(5, "kate_x")));

        Assert.Equal(1UL, Assert.Single(ByName("alice")).User.Id);
        Assert.Equal(2UL, Assert.Single(ByName("\u0430lice")).User.Id);
        Assert.Empty(ByName("alice_"));
        Assert.Empty(ByName("\u212Aate_x")); // KELVIN SIGN is not "k"
        Assert.Null(ById(4)!.Nick);
    }

    [Fact]
    public void Legacy_accounts_sharing_a_username_are_all_returned_with_their_discriminators()
    {
        Created();
        _directory.Apply(Chunk("n1", 0, 1, Member(1, "carol", "1111"), Member(2, "Carol", "2222"), Member(3, "helper", bot: true)));

        Assert.Equal(["1111", "2222"], ByName("carol").Select(m => m.User.Discriminator).Order());
        Assert.True(ById(3)!.User.Bot);

        _directory.Apply(new GuildMemberRemoveEvent(Guild, new DiscordUser(1, "carol")));
        Assert.Equal(2UL, Assert.Single(ByName("carol")).User.Id);
        _directory.Apply(new GuildMemberRemoveEvent(Guild, new DiscordUser(2, "Carol")));
        Assert.Empty(ByName("carol"));
    }

    [Fact]
    public async Task Lookups_from_other_threads_stay_exact_while_events_grow_rename_and_remove_members()
    {
        // 100 stable members; meanwhile the dispatcher's thread adds, renames and removes 20,000 others, which grows the
        // indexes and rewrites the name arena under the readers. Every answer a reader gets must be exact.
        Created();
        _directory.Apply(Chunk("n1", 0, 1, [.. Enumerable.Range(1, 100).Select(i => Member((ulong)i, $"stable{i}", roles: [RoleA]))]));
        Assert.True(_directory.IsComplete(Guild));

        using var writerDone = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var lookups = 0;
            // At least 1,000 lookups each, then until the writer is done: no clock involved.
            while (lookups < 1_000 || !writerDone.IsCancellationRequested)
            {
                var i = (ulong)(lookups++ % 100) + 1;
                Assert.Equal(i, Assert.Single(ByName($"STABLE{i}")).User.Id);
                Assert.Equal($"stable{i}", ById(i)!.User.Username);
                Assert.Equal([RoleA], ById(i)!.Roles);
            }
        })).ToArray();

        for (var i = 0; i < 20_000; i++)
        {
            var id = 1_000UL + (ulong)(i % 5_000);
            _directory.Apply(i % 3 == 2
                ? new GuildMemberRemoveEvent(Guild, new DiscordUser(id, "x"))
                : new GuildMemberUpdateEvent(Guild, Member(id, $"churn{i}")));
        }

        writerDone.Cancel();
        await Task.WhenAll(readers);
        Assert.Equal(100UL, Assert.Single(ByName("stable100")).User.Id);
    }

    [Fact]
    public void Members_with_the_same_roles_share_one_role_list()
    {
        Created();
        _directory.Apply(Chunk("n1", 0, 1, Member(1, "a", roles: [RoleB, RoleA]), Member(2, "b", roles: [RoleA, RoleB, RoleA])));

        Assert.Same(ById(1)!.Roles, ById(2)!.Roles);
        Assert.Equal([RoleA, RoleB], ById(1)!.Roles);
    }

    [Fact]
    public async Task A_new_session_drops_its_guilds_until_their_fill_completes_again_and_ends_the_old_fill()
    {
        var fill = Created();
        _directory.Apply(Chunk("n1", 0, 1, Member(1, "alice")));
        Assert.True(_directory.IsComplete(Guild));

        _directory.Apply(new ReadyEvent("s2", "wss://resume", new DiscordUser(99, "bot"), 5, [Guild]));
        Assert.False(_directory.IsComplete(Guild));
        Assert.False(_directory.TryGetMember(Guild, 1, out _));

        var second = Created();
        _directory.Apply(new ReadyEvent("s3", "wss://resume", new DiscordUser(99, "bot"), 5, [Guild]));
        Assert.True(second.Done.IsCompleted);
        Assert.Equal(FillOutcome.Superseded, await second.Done);
        Assert.True(fill.Done.IsCompleted);
        Assert.Equal(FillOutcome.Completed, await fill.Done);
    }

    [Fact]
    public void Guild_delete_forgets_the_guild_whether_removed_or_unavailable()
    {
        Created();
        _directory.Apply(Chunk("n1", 0, 1, Member(1, "alice")));

        _directory.Apply(new GuildDeleteEvent(Guild, Unavailable: true));

        Assert.False(_directory.IsComplete(Guild));
        Assert.Equal(new MemberDirectoryStats(0, 0, 0), _directory.Stats);
    }

    [Fact]
    public async Task Rate_limited_ends_the_fill_with_discords_retry_after_and_the_guild_can_be_filled_again()
    {
        var fill = Created();

        _directory.Apply(new GatewayRateLimitedEvent(8, TimeSpan.FromSeconds(12.5), Guild, "n1"));

        Assert.True(fill.Done.IsCompleted);
        Assert.Equal(FillOutcome.RateLimited, await fill.Done);
        Assert.Equal(TimeSpan.FromSeconds(12.5), fill.RetryAfter);
        Assert.True(_directory.NeedsFill(Guild));
        Assert.NotNull(_directory.BeginFill(Guild, "n2"));
        Assert.False(_directory.NeedsFill(Guild));
    }

    [Fact]
    public void Turned_off_it_holds_nothing_and_never_asks_for_a_fill()
    {
        var off = Create(enabled: false);

        off.Apply(new GuildCreateEvent(new GatewayGuild(Guild, "g", 1, [], [Member(1, "alice")], [], 1)));

        Assert.False(off.Enabled);
        Assert.False(off.FillsWanted.TryRead(out _));
        Assert.False(off.TryFindByUsername(Guild, "alice", out _));
        Assert.Equal(new MemberDirectoryStats(0, 0, 0), off.Stats);
    }
}
