using System.Globalization;
using System.Text.RegularExpressions;

namespace WalverBot.Webhooks;

/// <summary>
/// Finds when the wallet signed a delivery's message. Walver's security page says the message names a timestamp (with
/// the verification id, the wallet and a session id) but not how it is written, so this reads a labelled value —
/// <c>Issued At:</c> (as in EIP-4361 sign-in messages), <c>Timestamp:</c>, <c>Time:</c>, <c>Signed At:</c>, <c>Date:</c>,
/// with <c>:</c> or <c>=</c> — holding an ISO 8601 time or Unix seconds or milliseconds. A message without one has no
/// time to check; the delivery's own <c>verification_time</c> still bounds its age.
/// </summary>
public static partial class SignedMessageTime
{
    public static DateTimeOffset? Find(string? message)
    {
        if (string.IsNullOrEmpty(message))
        {
            return null;
        }

        foreach (Match match in Label().Matches(message))
        {
            // The label's value is either the rest of the line ("Sun, 01 Jun 2025 12:00:00 GMT") or its first word
            // ("timestamp=1748779200 session=…").
            var value = match.Groups["value"].Value.Trim();
            var space = value.AsSpan().IndexOfAny(' ', '\t');
            var firstWord = (space < 0 ? value : value[..space]).TrimEnd(',', ';');
            if (TryParse(value, out var at) || TryParse(firstWord, out at))
            {
                return at;
            }
        }

        return null;
    }

    private static bool TryParse(string value, out DateTimeOffset at)
    {
        at = default;
        if (value.Length is >= 9 and <= 14 && value.All(char.IsAsciiDigit))
        {
            var number = long.Parse(value, CultureInfo.InvariantCulture);
            at = value.Length <= 11 ? DateTimeOffset.FromUnixTimeSeconds(number) : DateTimeOffset.FromUnixTimeMilliseconds(number);
            return true;
        }

        // Plain dates and times with a zone or not (assumed UTC), as ISO 8601 or RFC 1123.
        return value.Length <= 64 && value.Any(char.IsAsciiDigit)
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out at);
    }

    // Linear-time engine: the message is attacker-controlled text of up to 64 K characters.
    [GeneratedRegex(@"\b(?:issued[ _-]?at|timestamp|time|signed[ _-]?at|date)\s*[:=][ \t]*(?<value>[^\r\n]{1,64})",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Label();
}
