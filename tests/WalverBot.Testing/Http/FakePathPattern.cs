namespace WalverBot.Testing.Http;

/// <summary>
/// Matches request paths against simple patterns: a segment that is <c>*</c> or <c>{name}</c>
/// matches any one segment, a final <c>**</c> matches the rest. Method <c>*</c> matches any method.
/// </summary>
public static class FakePathPattern
{
    public static bool IsMatch(string methodPattern, string pathPattern, string method, string path)
    {
        if (methodPattern != "*" && !string.Equals(methodPattern, method, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var pattern = Split(pathPattern);
        var segments = Split(path);
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == "**")
            {
                return true;
            }

            if (i >= segments.Length)
            {
                return false;
            }

            var wildcard = pattern[i] == "*" || (pattern[i].StartsWith('{') && pattern[i].EndsWith('}'));
            if (!wildcard && !string.Equals(pattern[i], segments[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return pattern.Length == segments.Length;
    }

    private static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
