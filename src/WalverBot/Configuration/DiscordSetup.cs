using Microsoft.Extensions.Options;
using WalverBot.Commands;
using WalverBot.Discord;
using WalverBot.Discord.Gateway;

namespace WalverBot.Configuration;

public static class DiscordSetup
{
    /// <summary>
    /// GUILDS for guilds, roles and channels; GUILD_MEMBERS (privileged) for the joins that wake waiting grants and for
    /// op 8 member look-ups. <c>check</c> probes with the same intents.
    /// </summary>
    public const GatewayIntents Intents = GatewayIntents.Guilds | GatewayIntents.GuildMembers;

    /// <summary>The name the bot gives Discord in IDENTIFY (<c>properties.browser</c> and <c>device</c>).</summary>
    public const string ClientName = "WalverBot";

    /// <summary>
    /// The Discord client (REST + gateway) configured from the <c>Discord</c> section, which the client validates
    /// itself; the slash-command scope (<c>Discord:CommandGuildIds</c>) is the bot's own setting in the same section.
    /// </summary>
    public static IServiceCollection AddWalverBotDiscord(this IServiceCollection services)
    {
        services.AddOptions<DiscordOptions>().BindConfiguration(DiscordOptions.SectionName);
        services.AddDiscord(gateway =>
        {
            gateway.Intents = Intents;
            gateway.Browser = ClientName;
            gateway.Device = ClientName;
        });
        services.AddOptions<SlashCommandOptions>().BindConfiguration(SlashCommandOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SlashCommandOptions>, SlashCommandOptionsValidator>();
        return services;
    }
}
