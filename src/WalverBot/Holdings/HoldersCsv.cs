using System.Globalization;
using System.Text;

namespace WalverBot.Holdings;

/// <summary>
/// The holders snapshot as CSV (RFC 4180: comma-separated, CRLF line ends, a field with a comma, quote or line break in
/// double quotes with quotes doubled). Text a spreadsheet would run as a formula (starting with = + - @, or a tab or
/// carriage return, OWASP "CSV Injection") is prefixed with a single quote, so a username cannot become a formula.
/// </summary>
public static class HoldersCsv
{
    public static readonly string[] Header = ["member_id", "username", "wallets", "amount", "tier", "last_checked", "block_or_slot"];

    public sealed record Line(ulong UserId, string? Username, IReadOnlyList<string> Wallets, decimal? Amount, string Tier, DateTimeOffset? LastChecked, long? BlockOrSlot);

    public static string Write(IEnumerable<Line> lines)
    {
        var text = new StringBuilder();
        Row(text, Header);
        foreach (var line in lines)
        {
            Row(text,
            [
                line.UserId.ToString(CultureInfo.InvariantCulture),
                line.Username ?? "",
                string.Join(' ', line.Wallets),
                line.Amount is { } amount ? HoldingsTiers.Format(amount) : "",
                line.Tier,
                line.LastChecked is { } at ? at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "",
                line.BlockOrSlot?.ToString(CultureInfo.InvariantCulture) ?? "",
            ]);
        }

        return text.ToString();
    }

    private static void Row(StringBuilder text, IReadOnlyList<string> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            text.Append(Field(fields[i]));
        }

        text.Append("\r\n");
    }

    /// <summary>One field, neutralised and quoted as needed.</summary>
    public static string Field(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
    }
}
