using Microsoft.Extensions.Options;
using WalverBot.Discord;

namespace WalverBot.Configuration;

public static class DiscordSetup
{
    /// <summary>The Discord client (REST + gateway) configured from the <c>Discord</c> section.</summary>
    public static IServiceCollection AddWalverBotDiscord(this IServiceCollection services)
    {
        services.AddOptions<DiscordOptions>().BindConfiguration(DiscordOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DiscordOptions>, DiscordOptionsValidator>();
        services.AddDiscordRest();
        services.AddDiscordGateway();
        return services;
    }
}

internal sealed class DiscordOptionsValidator : IValidateOptions<DiscordOptions>
{
    public ValidateOptionsResult Validate(string? name, DiscordOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Token))
        {
            failures.Add("Discord:Token is required: set the environment variable Discord__Token to the bot token from the Discord developer portal");
        }
        else if (options.Token.Any(char.IsWhiteSpace) || options.Token.StartsWith("Bot ", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add("Discord:Token is malformed: give the token alone, without spaces or a \"Bot \" prefix");
        }

        if (!Uri.TryCreate(options.ApiBaseUrl, UriKind.Absolute, out var api) || api.Scheme is not ("https" or "http"))
        {
            failures.Add("Discord:ApiBaseUrl must be an absolute URL such as https://discord.com/api/v10");
        }

        if (options.ShardCount is < 1)
        {
            failures.Add("Discord:ShardCount must be at least 1 when set");
        }

        if (options.ShardIds.Any(id => id < 0 || (options.ShardCount is { } count && id >= count)))
        {
            failures.Add("Discord:ShardIds must be between 0 and Discord:ShardCount - 1");
        }

        for (var i = 0; i < options.CommandGuildIds.Count; i++)
        {
            if (options.CommandGuildIds[i] == 0)
            {
                failures.Add($"Discord:CommandGuildIds:{i} must be a Discord id: a server's id such as 123456789012345678, not 0");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
