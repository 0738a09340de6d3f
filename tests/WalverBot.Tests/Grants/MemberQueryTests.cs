using WalverBot.Grants;

namespace WalverBot.Tests.Grants;

public class MemberQueryTests
{
    [Theory]
    [InlineData("alice", "alice", null)]
    [InlineData("Alice", "alice", null)]
    [InlineData("  @alice ", "alice", null)]
    [InlineData("alice#1234", "alice", "1234")]
    [InlineData("Old Name#0420", "old name", "0420")]
    [InlineData("a.b_c", "a.b_c", null)]
    public void Usernames_are_read_case_insensitively(string typed, string username, string? discriminator)
    {
        var query = Assert.IsType<MemberQuery.ByUsername>(MemberQuery.Parse(typed));
        Assert.Equal(username, query.Username);
        Assert.Equal(discriminator, query.Discriminator);
    }

    [Theory]
    [InlineData("123456789012345678", 123456789012345678UL)]
    [InlineData("<@123456789012345678>", 123456789012345678UL)]
    [InlineData("<@!123456789012345678>", 123456789012345678UL)]
    public void Ids_and_mentions_name_a_user_id(string typed, ulong id)
    {
        Assert.Equal(id, Assert.IsType<MemberQuery.ById>(MemberQuery.Parse(typed)).UserId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("a")]
    [InlineData("alice\u0000")]
    [InlineData("ali\nce")]
    [InlineData("@")]
    [InlineData("<@12>")]
    [InlineData("alice#12345")]
    [InlineData("al@ice")]
    [InlineData("99999999999999999999")] // above ulong's range
    public void Text_that_cannot_name_an_account_is_invalid(string? typed)
    {
        Assert.IsType<MemberQuery.Invalid>(MemberQuery.Parse(typed));
    }

    [Fact]
    public void Five_hundred_characters_are_invalid()
    {
        Assert.IsType<MemberQuery.Invalid>(MemberQuery.Parse(new string('a', 500)));
    }

    [Fact]
    public void Keys_of_a_typed_name_and_a_joining_member_agree()
    {
        Assert.Equal(MemberQuery.KeyFor("Alice"), MemberQuery.Parse("@ALICE").Key);
        Assert.Equal(MemberQuery.KeyFor(420000000000000000UL), MemberQuery.Parse("<@420000000000000000>").Key);
    }
}
