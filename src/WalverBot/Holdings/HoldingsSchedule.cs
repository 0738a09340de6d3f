using System.Security.Cryptography;
using System.Text;

namespace WalverBot.Holdings;

/// <summary>
/// When a wallet is checked: at a fixed point of every interval, derived from the wallet and its verification, so
/// checks spread evenly over the interval (no burst at start or midnight) and a restart does not move them.
/// </summary>
public static class HoldingsSchedule
{
    /// <summary>The wallet's point in the interval, as an offset from the interval's start.</summary>
    public static TimeSpan Offset(string verificationId, string wallet, TimeSpan interval)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{verificationId}\n{wallet}"));
        var value = BitConverter.ToUInt64(hash, 0);
        return TimeSpan.FromTicks((long)(value % (ulong)interval.Ticks));
    }

    /// <summary>The first of the wallet's points strictly after <paramref name="now"/>.</summary>
    public static DateTimeOffset NextCheck(string verificationId, string wallet, DateTimeOffset now, TimeSpan interval)
    {
        var ticks = now.UtcTicks;
        var slot = ticks - ticks % interval.Ticks + Offset(verificationId, wallet, interval).Ticks;
        if (slot <= ticks)
        {
            slot += interval.Ticks;
        }

        return new DateTimeOffset(Math.Min(slot, DateTimeOffset.MaxValue.UtcTicks), TimeSpan.Zero);
    }
}
