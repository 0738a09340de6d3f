using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace WalverBot.Webhooks;

/// <summary>The listener's connection limits and which proxies' forwarded headers are believed.</summary>
public static class ListenerLimits
{
    /// <summary>
    /// Kestrel limits for a listener that the internet can reach. Kestrel closes a silent connection only after its
    /// keep-alive timeout (130 s by default; the header timeout starts with the first byte), and it has no connection
    /// limit by default: 20,000 connections that never sent a byte exhausted the process. Read from configuration, not
    /// options, because Kestrel is configured before the settings are validated (PrepareAsync does that).
    /// </summary>
    public static void Apply(KestrelServerLimits limits, IConfiguration configuration)
    {
        var section = configuration.GetSection(WebhookOptions.SectionName);
        var defaults = new WebhookOptions();
        var maxConnections = section.GetValue(nameof(WebhookOptions.MaxConnections), defaults.MaxConnections);
        var idle = section.GetValue(nameof(WebhookOptions.IdleTimeout), defaults.IdleTimeout);
        limits.MaxConcurrentConnections = maxConnections > 0 ? maxConnections : defaults.MaxConnections;
        limits.MaxConcurrentUpgradedConnections = limits.MaxConcurrentConnections;
        limits.KeepAliveTimeout = idle > TimeSpan.Zero ? idle : defaults.IdleTimeout;
        // Slow-loris protection: headers within 10 s; bodies keep Kestrel's minimum data rate (240 B/s after 5 s).
        limits.RequestHeadersTimeout = WebhookOptions.HeadersTimeout;
        limits.MaxRequestHeadersTotalSize = 16 * 1024;
    }

    /// <summary>Parses <c>Webhook:TrustedProxies</c>: each entry an IP address or a CIDR network; a comma-separated string works too.</summary>
    public static bool TryParseProxies(IEnumerable<string> entries, out List<IPAddress> addresses, out List<IPNetwork> networks, out string? invalid)
    {
        addresses = [];
        networks = [];
        invalid = null;
        foreach (var entry in entries.SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (entry.Contains('/', StringComparison.Ordinal) && IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(entry, out var address))
            {
                addresses.Add(address);
            }
            else
            {
                invalid = entry;
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The entries of <c>Webhook:TrustedProxies</c>: the proxies whose forwarded headers are believed, as addresses
    /// (<c>10.0.0.5</c>) or networks (<c>172.16.0.0/12</c>); a list, or one comma-separated value. Empty: loopback only.
    /// </summary>
    public static IEnumerable<string> ConfiguredProxies(IConfiguration configuration)
    {
        var section = configuration.GetSection($"{WebhookOptions.SectionName}:TrustedProxies");
        return section.Value is { Length: > 0 } single ? [single] : section.GetChildren().Select(c => c.Value ?? "");
    }
}
