namespace WalverBot.Testing.Http;

/// <summary>
/// Matches request paths against simple patterns: a segment that is <c>*</c> or <c>{name}</c>
/// matches any one segment, a final <c>**</c> matches the rest. Method <c>*</c> matches any method.
/// </summary>
/// <remarks>
/// Without allocating: every request the fakes answer is matched against every queued fault (the kill drill queues
/// 2,000), and tests that wait for requests match every recorded one each time they look.
/// </remarks>
public static class FakePathPattern
{
    public static bool IsMatch(string methodPattern, string pathPattern, string method, string path)
    {
        if (methodPattern != "*" && !string.Equals(methodPattern, method, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var pattern = pathPattern.AsSpan();
        var rest = path.AsSpan();
        while (NextSegment(ref pattern) is { IsEmpty: false } wanted)
        {
            if (wanted is "**")
            {
                return true;
            }

            var segment = NextSegment(ref rest);
            if (segment.IsEmpty)
            {
                return false;
            }

            var wildcard = wanted is "*" || (wanted[0] == '{' && wanted[^1] == '}');
            if (!wildcard && !wanted.SequenceEqual(segment))
            {
                return false;
            }
        }

        return NextSegment(ref rest).IsEmpty;
    }

    /// <summary>The next non-empty segment of <paramref name="path"/> (empty at the end), which moves past it.</summary>
    private static ReadOnlySpan<char> NextSegment(ref ReadOnlySpan<char> path)
    {
        path = path.TrimStart('/');
        var end = path.IndexOf('/');
        var segment = end < 0 ? path : path[..end];
        path = path[segment.Length..];
        return segment;
    }
}
