namespace WalverBot.Testing.Http;

/// <summary>One HTTP request as a fake saw it, for assertions.</summary>
public sealed class FakeRecordedRequest
{
    private int _status = -1;

    public required string Method { get; init; }

    /// <summary>Path as sent, including any API prefix (e.g. <c>/api/v10/users/@me</c>).</summary>
    public required string Path { get; init; }

    /// <summary>Raw query string including the leading '?', or empty.</summary>
    public required string Query { get; init; }

    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    /// <summary>The body as UTF-8 text (a multipart body too; read its parts from the fake's own records).</summary>
    public required string Body { get; init; }

    /// <summary>The body's bytes as sent.</summary>
    public required byte[] BodyBytes { get; init; }

    /// <summary>When the request arrived, on the fake's TimeProvider (so a FakeTimeProvider test sees its own clock).</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>When the request arrived in real (monotonic) time, counted from the fake's start: spacing between requests even under a fake clock.</summary>
    public required TimeSpan ArrivedAfter { get; init; }

    /// <summary>Status the fake answered, or null when it aborted the connection (or has not answered yet).</summary>
    public int? Status
    {
        get => Volatile.Read(ref _status) is var status && status >= 0 ? status : null;
        internal set => Volatile.Write(ref _status, value ?? -1);
    }

    /// <summary>A header's value (case-insensitive name), or null when absent.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public override string ToString() => $"{Method} {Path}{Query} -> {Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none)"} at +{ArrivedAfter.TotalMilliseconds:0} ms";
}
