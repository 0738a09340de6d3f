using Microsoft.Extensions.Options;
using WalverBot.Discord.Gateway;

namespace WalverBot.Discord;

/// <summary>
/// The client's own rules for <see cref="DiscordOptions"/>: one line per problem, naming the key under
/// <see cref="DiscordOptions.SectionName"/> and never a value (the token is a secret).
/// </summary>
internal sealed class DiscordOptionsValidator : IValidateOptions<DiscordOptions>
{
    private const string Section = DiscordOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, DiscordOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Token))
        {
            failures.Add($"{Section}:Token is required: set the environment variable {Section}__Token to the bot token from the Discord developer portal");
        }
        else if (options.Token.Any(char.IsWhiteSpace) || options.Token.StartsWith("Bot ", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"{Section}:Token is malformed: give the token alone, without spaces or a \"Bot \" prefix");
        }

        if (!Uri.TryCreate(options.ApiBaseUrl, UriKind.Absolute, out var api) || api.Scheme is not ("https" or "http"))
        {
            failures.Add($"{Section}:ApiBaseUrl must be an absolute URL such as https://discord.com/api/v10");
        }

        if (options.ShardCount is < 1)
        {
            failures.Add($"{Section}:ShardCount must be at least 1 when set");
        }

        if (options.ShardIds.Any(id => id < 0 || (options.ShardCount is { } count && id >= count)))
        {
            failures.Add($"{Section}:ShardIds must be between 0 and {Section}:ShardCount - 1");
        }

        if (options.GlobalRateLimit < 1)
        {
            failures.Add($"{Section}:GlobalRateLimit must be at least 1 (requests per second; Discord allows 50 per bot token, shared by all its processes)");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>The rules for <see cref="DiscordGatewayOptions"/>, which the host sets in code: a failure is a host bug.</summary>
internal sealed class DiscordGatewayOptionsValidator : IValidateOptions<DiscordGatewayOptions>
{
    private static readonly GatewayIntents Known = Enum.GetValues<GatewayIntents>().Aggregate(GatewayIntents.None, (all, intent) => all | intent);

    public ValidateOptionsResult Validate(string? name, DiscordGatewayOptions options)
    {
        var failures = new List<string>();
        // Docs (events/gateway#gateway-close-event-codes): an unknown intent bit closes IDENTIFY with 4013 Invalid intent(s).
        if ((options.Intents & ~Known) != 0 || options.Intents < 0)
        {
            failures.Add($"Discord gateway intents {(int)options.Intents} hold bits Discord does not define (4013 Invalid intent(s))");
        }

        // Docs (events/gateway-events#identify-identify-connection-properties): os, browser and device are strings Discord requires.
        foreach (var (property, value) in new[] { ("os", options.Os), ("browser", options.Browser), ("device", options.Device) })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                failures.Add($"Discord gateway IDENTIFY property {property} must not be empty");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
