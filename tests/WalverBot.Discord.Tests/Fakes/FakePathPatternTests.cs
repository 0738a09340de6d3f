using WalverBot.Testing.Http;

namespace WalverBot.Discord.Tests.Fakes;

public sealed class FakePathPatternTests
{
    [Theory]
    [InlineData("PUT", "/guilds/*/members/*/roles/*", "PUT", "/guilds/1/members/2/roles/3", true)]
    [InlineData("PUT", "/guilds/{guild}/members/{user}/roles/{role}", "put", "/guilds/1/members/2/roles/3", true)]
    [InlineData("*", "/guilds/1/members/2", "GET", "/guilds/1/members/2", true)]
    [InlineData("*", "/guilds/1/members/2", "GET", "guilds//1/members/2/", true)]
    [InlineData("GET", "/guilds/**", "GET", "/guilds/1/members/search", true)]
    [InlineData("GET", "/guilds/1/**", "GET", "/guilds/1", true)]
    [InlineData("PUT", "/guilds/*/members/*/roles/*", "DELETE", "/guilds/1/members/2/roles/3", false)]
    [InlineData("PUT", "/guilds/*/members/*/roles/*", "PUT", "/guilds/1/members/2/roles", false)]
    [InlineData("PUT", "/guilds/*/members/*/roles", "PUT", "/guilds/1/members/2/roles/3", false)]
    [InlineData("GET", "/guilds/1/members/2", "GET", "/guilds/1/members/20", false)]
    [InlineData("GET", "/guilds/1/members/20", "GET", "/guilds/1/members/2", false)]
    [InlineData("GET", "/guilds/1", "GET", "/channels/1", false)]
    public void Matches_segment_by_segment(string methodPattern, string pathPattern, string method, string path, bool expected) =>
        Assert.Equal(expected, FakePathPattern.IsMatch(methodPattern, pathPattern, method, path));
}
