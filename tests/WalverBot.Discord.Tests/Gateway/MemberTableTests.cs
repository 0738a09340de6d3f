using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Tests.Gateway;

/// <summary>The directory's compact per-guild store: exact answers through growth, removals, renames and arena rewrites.</summary>
public sealed class MemberTableTests
{
    private static readonly ulong[] NoRoles = [];

    [Fact]
    public void Random_joins_renames_and_leaves_answer_exactly_like_a_dictionary_through_growth_and_arena_rewrites()
    {
        // Seeded: the same sequence every run. Starts small so the indexes grow several times, and renames and leaves
        // outweigh live names often enough that the arena is rewritten; names collide across members (legacy accounts).
        var random = new Random(1234);
        var table = new MemberTable(4);
        var model = new Dictionary<ulong, (string Name, ushort Discriminator, bool Bot, ulong[] Roles)>();
        var names = Enumerable.Range(0, 400).Select(i => i % 7 == 0 ? $"User{i % 50}" : $"user{i}").Concat(["\u00e9l\u00e8ve", "\u0430lice", "Alice", "ALICE", "a"]).ToArray();
        var roleSets = new[] { NoRoles, [1UL], [1UL, 2UL] };

        for (var step = 0; step < 20_000; step++)
        {
            var id = (ulong)random.Next(1, 3_000) * 4_194_304UL; // snowflake-like: low bits zero
            if (random.Next(4) == 0)
            {
                table.Remove(id);
                model.Remove(id);
            }
            else
            {
                var value = (names[random.Next(names.Length)], (ushort)random.Next(0, 10_000), random.Next(10) == 0, roleSets[random.Next(roleSets.Length)]);
                table.Upsert(id, value.Item1, value.Item2, value.Item3, value.Item4);
                model[id] = value;
            }

            if (step % 2_000 == 1_999)
            {
                AssertSame(table, model, names);
                if (step == 9_999)
                {
                    table.Trim();
                    AssertSame(table, model, names);
                }
            }
        }
    }

    [Fact]
    public void A_name_that_is_not_valid_utf16_is_found_by_id_only_and_never_matches_the_replacement_character()
    {
        var table = new MemberTable(4);
        table.Upsert(1, "bad\ud800", 0, false, NoRoles);
        table.Upsert(2, "bad\ufffd", 0, false, NoRoles);

        Assert.NotNull(table.Get(1));
        Assert.Empty(table.FindByUsername("bad\ud800"));
        Assert.Equal(2UL, Assert.Single(table.FindByUsername("bad\ufffd")).User.Id);

        table.Upsert(1, "good", 0, false, NoRoles); // a rename out of the unindexed state
        Assert.Equal(1UL, Assert.Single(table.FindByUsername("GOOD")).User.Id);
        table.Remove(1);
        Assert.Empty(table.FindByUsername("good"));
        Assert.Equal(2UL, Assert.Single(table.FindByUsername("bad\ufffd")).User.Id);
    }

    [Fact]
    public void Names_longer_than_the_one_byte_length_round_trip()
    {
        var table = new MemberTable(4);
        var longName = new string('x', 300) + "\u00e9";
        table.Upsert(7, longName, 0, false, NoRoles);
        table.Upsert(8, "short", 0, false, NoRoles);

        Assert.Equal(longName, table.Get(7)!.User.Username);
        Assert.Equal(7UL, Assert.Single(table.FindByUsername(longName.ToUpperInvariant()[..300] + "\u00e9")).User.Id);
        table.Trim();
        Assert.Equal(longName, table.Get(7)!.User.Username);
        Assert.Equal("short", table.Get(8)!.User.Username);
    }

    [Fact]
    public void A_million_member_table_holds_about_fifty_bytes_a_member_in_its_arrays()
    {
        // The structural size (slots, both indexes, the name arena) after a fill of a guild whose GUILD_CREATE said how
        // many members it has, with 12-character usernames as in the RSS benchmark. Role lists are shared, not counted.
        const int members = 1_000_000;
        var table = new MemberTable(members);
        for (var i = 0; i < members; i++)
        {
            table.Upsert(1_000_000_000_000_000UL + (ulong)i, $"member{i:D6}", 0, false, NoRoles);
        }

        table.Trim();

        var perMember = (double)table.ArrayBytes / members;
        Assert.InRange(perMember, 24 + 13, 56); // a 24-byte slot and 13 name bytes at least; two 4-byte indexes under half full
        Assert.Equal(members - 1UL + 1_000_000_000_000_000UL, Assert.Single(table.FindByUsername("MEMBER999999")).User.Id);
    }

    private static void AssertSame(MemberTable table, Dictionary<ulong, (string Name, ushort Discriminator, bool Bot, ulong[] Roles)> model, string[] names)
    {
        Assert.Equal(model.Count, table.Count);
        foreach (var (id, value) in model)
        {
            var member = table.Get(id);
            Assert.NotNull(member);
            Assert.Equal((value.Name, value.Discriminator == 0 ? "0" : value.Discriminator.ToString("D4"), value.Bot), (member.User.Username, member.User.Discriminator, member.User.Bot));
            Assert.Same(value.Roles, member.Roles);
        }

        var byFoldedName = model.ToLookup(e => AsciiLower(e.Value.Name), e => e.Key);
        foreach (var name in names.Append("nobody").Append("user1_").Append("\u0410LICE"))
        {
            Assert.Equal(byFoldedName[AsciiLower(name)].Order(), table.FindByUsername(name).Select(m => m.User.Id).Order());
        }
    }

    /// <summary>The reference rule, on strings: A-Z lower-cased, every other character (Cyrillic А included) as it is.</summary>
    private static string AsciiLower(string name) => string.Concat(name.Select(c => char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c));
}
