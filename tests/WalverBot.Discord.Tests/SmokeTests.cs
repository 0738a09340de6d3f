namespace WalverBot.Discord.Tests;

public class SmokeTests
{
    [Fact]
    public void Placeholder() => Assert.True(true);
}
