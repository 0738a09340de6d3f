using System.Text.Json;

namespace WalverBot.Discord.Rest;

/// <summary>
/// The fields of Discord's JSON error bodies: <c>{ "code": 50013, "message": "Missing Permissions" }</c>
/// (https://discord.com/developers/docs/reference#error-messages) and, on 429,
/// <c>retry_after</c> (float seconds) and <c>global</c>. Anything else — HTML from a proxy, an empty
/// body — parses to an empty result rather than failing.
/// </summary>
internal sealed record DiscordErrorBody(int? Code, string? Message, double? RetryAfter, bool Global)
{
    private static readonly DiscordErrorBody Empty = new(null, null, null, false);

    public static DiscordErrorBody Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Empty;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Empty;
            }

            return new DiscordErrorBody(
                root.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.Number && code.TryGetInt32(out var c) ? c : null,
                root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String ? message.GetString() : null,
                // TryGetDouble: a number past double's range (1e400) is refused rather than thrown.
                root.TryGetProperty("retry_after", out var retry) && retry.ValueKind == JsonValueKind.Number && retry.TryGetDouble(out var r) ? r : null,
                root.TryGetProperty("global", out var global) && global.ValueKind == JsonValueKind.True);
        }
        catch (JsonException)
        {
            return Empty;
        }
    }

    public static async Task<DiscordErrorBody> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>The body's <c>retry_after</c>, else the <c>Retry-After</c> header (whole seconds), clamped to <see cref="DiscordRestException.MaxServerDelay"/>.</summary>
    public static TimeSpan? RetryAfterOf(DiscordErrorBody body, HttpResponseMessage response) =>
        body.RetryAfter is { } seconds and >= 0 ? DiscordRestException.ServerDelayFromSeconds(seconds)
        : response.Headers.RetryAfter?.Delta is { } delta ? DiscordRestException.ClampServerDelay(delta)
        : null;
}
