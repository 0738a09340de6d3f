using System.Numerics;

namespace WalverBot.Chains;

public static class TokenAmounts
{
    private static readonly BigInteger MaxMantissa = (BigInteger.One << 96) - 1;

    /// <summary>
    /// An on-chain integer amount (uint256 base units, or u64 lamports) as whole tokens: <paramref name="raw"/> / 10^decimals.
    /// Exact whenever <see cref="decimal"/> can hold the result (96-bit mantissa, scale ≤ 28). Past that, digits are cut
    /// from the right, never rounded up, so an amount is never overstated; above <see cref="decimal.MaxValue"/>
    /// (~7.9e28 whole tokens, far beyond any real supply) the amount is clamped to it.
    /// </summary>
    public static decimal ToDecimal(BigInteger raw, int decimals)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(raw.Sign, nameof(raw));
        ArgumentOutOfRangeException.ThrowIfNegative(decimals);
        var scale = decimals;
        while (raw > MaxMantissa || scale > 28)
        {
            if (scale == 0)
            {
                return decimal.MaxValue;
            }

            raw /= 10;
            scale--;
        }

        var bytes = new byte[12];
        raw.TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false);
        return new decimal(BitConverter.ToInt32(bytes, 0), BitConverter.ToInt32(bytes, 4), BitConverter.ToInt32(bytes, 8), false, (byte)scale);
    }
}
