using WalverBot.Grants;

namespace WalverBot.Tests.Grants;

public class RetryDelayTests
{
    [Theory]
    [InlineData(1, 0.0, 1.6)]
    [InlineData(1, 0.5, 2.0)]
    [InlineData(2, 0.5, 4.0)]
    [InlineData(4, 0.0, 12.8)]
    [InlineData(5, 0.5, 32.0)]
    [InlineData(6, 0.0, 48.0)]
    [InlineData(6, 0.99, 60.0)]
    [InlineData(30, 0.5, 60.0)]
    public void Retries_back_off_2_4_8_seconds_with_20_percent_jitter_capped_at_a_minute(int attempt, double random, double seconds) =>
        Assert.Equal(seconds, RetryDelay.For(attempt, null, random).TotalSeconds, 3);

    [Fact]
    public void A_retry_is_never_sooner_than_Discord_asked()
    {
        Assert.Equal(TimeSpan.FromSeconds(90), RetryDelay.For(1, TimeSpan.FromSeconds(90), 0.5));
        Assert.Equal(TimeSpan.FromSeconds(2), RetryDelay.For(1, TimeSpan.FromSeconds(1), 0.5));
    }

    [Fact]
    public void The_random_overload_stays_within_the_jitter_bounds()
    {
        for (var i = 0; i < 100; i++)
        {
            Assert.InRange(RetryDelay.For(3, null), TimeSpan.FromSeconds(6.4), TimeSpan.FromSeconds(9.6));
        }
    }
}
