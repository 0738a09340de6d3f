using System.Text.RegularExpressions;

namespace WalverBot.Grants;

/// <summary>
/// What the member typed in Walver's <c>discord</c> field, read as exactly one of: a user id, or a username
/// (with an optional legacy discriminator). Display names and nicknames are never matched.
/// </summary>
public abstract record MemberQuery
{
    private MemberQuery() { }

    /// <summary>A user id, typed as digits or as a mention <c>&lt;@id&gt;</c>.</summary>
    public sealed record ById(ulong UserId) : MemberQuery
    {
        public override string Key => $"id:{UserId}";
    }

    /// <summary>A username, case-insensitive; <paramref name="Discriminator"/> is the legacy <c>#1234</c> when typed.</summary>
    public sealed record ByUsername(string Username, string? Discriminator) : MemberQuery
    {
        public override string Key => $"name:{Username}";
    }

    /// <summary>Something that cannot name a Discord account.</summary>
    public sealed record Invalid(string Reason) : MemberQuery
    {
        public override string Key => "";
    }

    /// <summary>A stable form used to match a member who joins later (GUILD_MEMBER_ADD).</summary>
    public abstract string Key { get; }

    public static string KeyFor(ulong userId) => $"id:{userId}";

    public static string KeyFor(string username) => $"name:{AsciiLower(username)}";

    /// <summary>
    /// Usernames compare case-insensitively for ASCII letters only. Modern usernames are ASCII (a-z, 0-9, _ and .);
    /// Unicode case folding would turn look-alikes into them (U+212A KELVIN SIGN lowers to "k"), so any other
    /// character must match exactly.
    /// </summary>
    public static bool SameUsername(string a, string b) =>
        a.Length == b.Length && string.Equals(AsciiLower(a), AsciiLower(b), StringComparison.Ordinal);

    /// <summary>Lower-cases A-Z only, leaving every other character as typed.</summary>
    public static string AsciiLower(string text) =>
        string.Create(text.Length, text, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsAsciiLetterUpper(source[i]) ? (char)(source[i] | 0x20) : source[i];
            }
        });

    // Usernames are 2-32 characters; legacy ones allowed most printable characters except @ # : and ```.
    private static readonly Regex Mention = new(@"^<@!?(\d{15,21})>$", RegexOptions.CultureInvariant);
    private static readonly Regex Snowflake = new(@"^\d{15,21}$", RegexOptions.CultureInvariant);
    private static readonly Regex Legacy = new(@"^(.{2,32})#(\d{4})$", RegexOptions.CultureInvariant | RegexOptions.Singleline);

    public static MemberQuery Parse(string? typed)
    {
        if (string.IsNullOrWhiteSpace(typed))
        {
            return new Invalid("no Discord username was given");
        }

        if (typed.Length > 64)
        {
            return new Invalid("the Discord username is longer than any Discord username");
        }

        if (typed.Any(char.IsControl))
        {
            return new Invalid("the Discord username contains control characters");
        }

        var text = typed.Trim();

        var mention = Mention.Match(text);
        if (mention.Success)
        {
            return ParseId(mention.Groups[1].Value);
        }

        if (Snowflake.IsMatch(text))
        {
            return ParseId(text);
        }

        if (text.StartsWith('@'))
        {
            text = text[1..];
        }

        string? discriminator = null;
        var legacy = Legacy.Match(text);
        if (legacy.Success)
        {
            text = legacy.Groups[1].Value;
            discriminator = legacy.Groups[2].Value;
        }

        if (text.Length is < 2 or > 32)
        {
            return new Invalid("a Discord username has 2 to 32 characters");
        }

        if (text.IndexOfAny(['@', '#', ':', '<', '>']) >= 0 || text.Contains("```", StringComparison.Ordinal))
        {
            return new Invalid("the text is not a Discord username");
        }

        return new ByUsername(AsciiLower(text), discriminator);
    }

    private static MemberQuery ParseId(string digits) =>
        ulong.TryParse(digits, out var id) && id > 0 ? new ById(id) : new Invalid("the user id is out of range");
}
