using System.Diagnostics.Metrics;

namespace WalverBot.Discord.Rest;

/// <summary>Names of the Discord client's metrics, for the host to export.</summary>
public static class DiscordMetrics
{
    /// <summary>The <see cref="Meter"/> name.</summary>
    public const string MeterName = "WalverBot.Discord";

    /// <summary>Histogram (seconds) of REST attempts, tagged <c>route</c> and <c>status</c> ("none" when no answer came).</summary>
    public const string RequestDuration = "walverbot.discord.rest.request.duration";

    /// <summary>Counter of 429 answers, tagged <c>bucket</c> (Discord's hash, or "unknown") and <c>scope</c>.</summary>
    public const string RateLimited = "walverbot.discord.rest.rate_limited";
}

/// <summary>Records the REST client's metrics on a meter from the host's <see cref="IMeterFactory"/>.</summary>
internal sealed class DiscordRestMetrics
{
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _rateLimited;

    public DiscordRestMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(DiscordMetrics.MeterName);
        _duration = meter.CreateHistogram<double>(DiscordMetrics.RequestDuration, "s", "Duration of Discord REST requests.");
        _rateLimited = meter.CreateCounter<long>(DiscordMetrics.RateLimited, "{response}", "Discord REST answers with status 429.");
    }

    public void RecordRequest(DiscordRoute route, int? status, TimeSpan elapsed) =>
        _duration.Record(
            elapsed.TotalSeconds,
            new KeyValuePair<string, object?>("route", route.Name),
            new KeyValuePair<string, object?>("status", status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"));

    public void RecordRateLimited(string? bucket, string? scope) =>
        _rateLimited.Add(
            1,
            new KeyValuePair<string, object?>("bucket", bucket ?? "unknown"),
            new KeyValuePair<string, object?>("scope", scope ?? "unknown"));
}
