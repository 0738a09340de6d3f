namespace WalverBot.Discord.Tests;

public class ExponentialBackoffTests
{
    private static readonly ExponentialBackoff OneSecondToAMinute = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 0.5, 1.0);

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(5, 32)]
    [InlineData(6, 60)]
    [InlineData(1000, 60)]
    [InlineData(-3, 1)]
    public void Ceiling_doubles_per_attempt_up_to_the_cap(int attempt, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), OneSecondToAMinute.Ceiling(attempt));

    [Fact]
    public void Delay_is_the_ceiling_scaled_by_a_factor_drawn_between_the_bounds()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), OneSecondToAMinute.Delay(2, 0.0));
        Assert.Equal(TimeSpan.FromSeconds(3), OneSecondToAMinute.Delay(2, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(30), OneSecondToAMinute.Delay(20, 0.0));
        Assert.True(OneSecondToAMinute.Delay(2, 0.999) < TimeSpan.FromSeconds(4));
    }

    [Fact]
    public void Delay_never_exceeds_the_cap_even_when_jitter_scales_up()
    {
        var upward = new ExponentialBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 0.8, 1.2);

        Assert.Equal(2.4, upward.Delay(1, 0.999999999).TotalSeconds, 3);
        Assert.Equal(TimeSpan.FromSeconds(48), upward.Delay(6, 0.0));
        Assert.Equal(TimeSpan.FromMinutes(1), upward.Delay(6, 0.999));
        Assert.Equal(TimeSpan.FromMinutes(1), upward.Delay(int.MaxValue, 0.999));
    }

    [Fact]
    public void Bounds_that_make_no_sense_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialBackoff(TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(1), 0.5, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 1.2, 0.8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialBackoff(TimeSpan.FromSeconds(-1), TimeSpan.FromMinutes(1), 0.5, 1.0));
    }
}
