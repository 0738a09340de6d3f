using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace WalverBot.Discord.Rest;

/// <summary>
/// One REST call: its method, its route template (what logs, metrics and exceptions show), the
/// concrete path (which may hold an interaction token, so it is never logged) and its top-level
/// ("major") parameter, which Discord uses to keep separate rate limits per guild, channel or webhook.
/// </summary>
internal sealed class DiscordRoute
{
    public static readonly HttpRequestOptionsKey<DiscordRoute> OptionsKey = new("WalverBot.Discord.Route");

    private DiscordRoute(HttpMethod method, string template, string path, string? majorParameter, bool isInteraction)
    {
        Method = method;
        Template = template;
        Path = path;
        MajorParameter = majorParameter;
        IsInteraction = isInteraction;
    }

    public HttpMethod Method { get; }

    /// <summary>e.g. <c>/guilds/{guild_id}/members/{user_id}</c>.</summary>
    public string Template { get; }

    /// <summary>Relative path and query sent to Discord. Secret: may hold an interaction token.</summary>
    public string Path { get; }

    /// <summary>The top-level resource id; webhook tokens are hashed so the key can't leak them.</summary>
    public string? MajorParameter { get; }

    /// <summary>
    /// Interaction callbacks and interaction webhooks "are not bound to the application's Global Rate Limit"
    /// (https://discord.com/developers/docs/interactions/receiving-and-responding#endpoints).
    /// </summary>
    public bool IsInteraction { get; }

    /// <summary>Method and template, e.g. <c>GET /guilds/{guild_id}</c>: safe to log.</summary>
    public string Name => $"{Method.Method} {Template}";

    /// <summary>
    /// Fills the template's placeholders in order: ids as decimal, strings URL-escaped.
    /// Top-level resources are "channels (channel_id), guilds (guild_id), and webhooks (webhook_id or
    /// webhook_id + webhook_token)" (https://discord.com/developers/docs/topics/rate-limits).
    /// </summary>
    public static DiscordRoute Create(HttpMethod method, string template, params ReadOnlySpan<object> values)
    {
        var path = new StringBuilder(template.Length + 32);
        var filled = new List<string>(values.Length);
        var next = 0;
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i] != '{')
            {
                path.Append(template[i]);
                continue;
            }

            var end = template.IndexOf('}', i);
            var value = values[next++] switch
            {
                ulong id => id.ToString(CultureInfo.InvariantCulture),
                string text => Uri.EscapeDataString(text),
                var other => throw new ArgumentException($"Unsupported route value type {other.GetType().Name}.", nameof(values)),
            };
            filled.Add(value);
            path.Append(value);
            i = end;
        }

        if (next != values.Length)
        {
            throw new ArgumentException($"Route {template} takes {next} values, not {values.Length}.", nameof(values));
        }

        var isInteraction = template.StartsWith("/interactions/", StringComparison.Ordinal)
            || template.Contains("{interaction_token}", StringComparison.Ordinal);
        string? major = null;
        if (template.StartsWith("/guilds/{", StringComparison.Ordinal)
            || template.StartsWith("/channels/{", StringComparison.Ordinal)
            || template.StartsWith("/interactions/{", StringComparison.Ordinal))
        {
            major = filled[0];
        }
        else if (template.StartsWith("/webhooks/{", StringComparison.Ordinal))
        {
            major = filled.Count > 1 ? $"{filled[0]}:{ShortHash(filled[1])}" : filled[0];
        }

        return new DiscordRoute(method, template, path.ToString(1, path.Length - 1), major, isInteraction);
    }

    /// <summary>Appends a query string (already escaped) to the path; the template stays as it is.</summary>
    public DiscordRoute WithQuery(string query) =>
        new(Method, Template, $"{Path}?{query}", MajorParameter, IsInteraction);

    /// <summary>Never the path: it may hold a token.</summary>
    public override string ToString() => Name;

    private static string ShortHash(string secret) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), 0, 8);
}
