using System.Net.Http.Headers;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace WalverBot.Discord.Rest;

/// <summary>
/// Adds the headers Discord requires on every call: <c>Authorization: Bot &lt;token&gt;</c> and
/// <c>User-Agent: DiscordBot ($url, $versionNumber)</c> (https://discord.com/developers/docs/reference#user-agent).
/// </summary>
internal sealed class DiscordAuthenticationHandler(IOptions<DiscordOptions> options) : DelegatingHandler
{
    public const string ProjectUrl = "https://github.com/walverbot/walverbot";

    public static string UserAgent { get; } = $"DiscordBot ({ProjectUrl}, {Version})";

    private static string Version
    {
        get
        {
            var assembly = typeof(DiscordAuthenticationHandler).Assembly;
            var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            // Drop SourceLink's "+commit" suffix: the version number is what Discord asks for.
            return informational?.Split('+')[0] ?? assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        }
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = options.Value.Token;
        if (string.IsNullOrWhiteSpace(token))
        {
            // Sending without a token would only earn a 401, which counts towards Discord's ban threshold.
            throw new InvalidOperationException("Discord:Token is not set.");
        }

        // Assignments, not Add: the rate-limit handler may send the same request again after a 429.
        request.Headers.Authorization = new AuthenticationHeaderValue("Bot", token);
        request.Headers.UserAgent.Clear();
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        return base.SendAsync(request, cancellationToken);
    }
}
