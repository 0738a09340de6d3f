using WalverBot.Discord.Models;
using WalverBot.Grants;

namespace WalverBot.Tests.Grants;

public class MemberMatcherTests
{
    private static GuildMember Member(ulong id, string username, string? nick = null, string discriminator = "0", string? globalName = null) =>
        new(new DiscordUser(id, username, discriminator, globalName), nick, []);

    [Fact]
    public void Only_the_exact_username_matches_among_prefix_results()
    {
        var result = MemberMatcher.Match(new MemberQuery.ByUsername("alice", null),
            [Member(1, "alice2"), Member(2, "alicea"), Member(3, "Alice"), Member(4, "bob", nick: "alice")]);

        Assert.Equal(3UL, Assert.IsType<MemberMatcher.Result.Found>(result).Member.User.Id);
    }

    [Fact]
    public void Two_prefix_matches_and_no_exact_one_is_not_found()
    {
        var result = MemberMatcher.Match(new MemberQuery.ByUsername("ali", null), [Member(1, "alice"), Member(2, "alicia")]);

        Assert.IsType<MemberMatcher.Result.NotFound>(result);
    }

    [Fact]
    public void Nicknames_and_display_names_never_match()
    {
        var result = MemberMatcher.Match(new MemberQuery.ByUsername("alice", null),
            [Member(1, "mallory", nick: "alice", globalName: "alice")]);

        Assert.IsType<MemberMatcher.Result.NotFound>(result);
    }

    [Fact]
    public void Unicode_look_alikes_do_not_match()
    {
        // Cyrillic "а" (U+0430) in place of Latin "a".
        var result = MemberMatcher.Match(new MemberQuery.ByUsername("alice", null), [Member(1, "\u0430lice")]);

        Assert.IsType<MemberMatcher.Result.NotFound>(result);
    }

    [Fact]
    public void A_kelvin_sign_does_not_stand_in_for_k()
    {
        // U+212A KELVIN SIGN lower-cases to ASCII "k" under Unicode rules; usernames fold ASCII letters only.
        var query = Assert.IsType<MemberQuery.ByUsername>(MemberQuery.Parse("\u212Aate_x"));

        Assert.IsType<MemberMatcher.Result.NotFound>(MemberMatcher.Match(query, [Member(1, "kate_x")]));
        Assert.NotEqual(MemberQuery.KeyFor("kate_x"), query.Key);
        Assert.Equal(1UL, Assert.IsType<MemberMatcher.Result.Found>(MemberMatcher.Match((MemberQuery.ByUsername)MemberQuery.Parse("KATE_X"), [Member(1, "kate_x")])).Member.User.Id);
    }

    [Theory]
    [InlineData("\u212Aate", "kate", false)] // KELVIN SIGN
    [InlineData("\u0130va", "iva", false)]   // LATIN CAPITAL LETTER I WITH DOT ABOVE
    [InlineData("\u017Fam", "sam", false)]   // LATIN SMALL LETTER LONG S (upper-cases to S)
    [InlineData("KaTe", "kate", true)]
    public void Usernames_fold_ascii_letters_only(string typed, string username, bool same)
    {
        Assert.Equal(same, MemberQuery.SameUsername(typed, username));
    }

    [Fact]
    public void Legacy_discriminator_must_match_unmigrated_accounts()
    {
        var members = new[] { Member(1, "carol", discriminator: "1111"), Member(2, "carol", discriminator: "2222") };

        Assert.Equal(2UL, Assert.IsType<MemberMatcher.Result.Found>(MemberMatcher.Match(new MemberQuery.ByUsername("carol", "2222"), members)).Member.User.Id);
        Assert.IsType<MemberMatcher.Result.NotFound>(MemberMatcher.Match(new MemberQuery.ByUsername("carol", "3333"), members));
        Assert.Equal(2, Assert.IsType<MemberMatcher.Result.Ambiguous>(MemberMatcher.Match(new MemberQuery.ByUsername("carol", null), members)).Count);
    }

    [Fact]
    public void A_migrated_account_matches_a_typed_legacy_tag()
    {
        var result = MemberMatcher.Match(new MemberQuery.ByUsername("dave", "0420"), [Member(7, "dave")]);

        Assert.Equal(7UL, Assert.IsType<MemberMatcher.Result.Found>(result).Member.User.Id);
    }
}
