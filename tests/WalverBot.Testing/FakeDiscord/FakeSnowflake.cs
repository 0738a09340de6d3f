namespace WalverBot.Testing.FakeDiscord;

/// <summary>Discord snowflakes: milliseconds since the Discord epoch (2015-01-01) shifted left by 22, plus a counter.</summary>
public static class FakeSnowflake
{
    private const long DiscordEpochMs = 1420070400000;
    private static int _increment;

    public static string At(DateTimeOffset time)
    {
        var ms = time.ToUnixTimeMilliseconds() - DiscordEpochMs;
        var increment = Interlocked.Increment(ref _increment) & 0xFFF;
        return ((ms << 22) | (1L << 17) | (uint)increment).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public static DateTimeOffset TimeOf(string snowflake) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long.Parse(snowflake, System.Globalization.CultureInfo.InvariantCulture) >> 22) + DiscordEpochMs);
}
