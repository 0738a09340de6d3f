using System.Runtime.InteropServices;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;

namespace WalverBot.Discord;

/// <summary>
/// What the host decides in code about its gateway sessions (not operator settings): the events it asks for and how
/// the client names itself in IDENTIFY (https://discord.com/developers/docs/events/gateway-events#identify).
/// Set with <see cref="DiscordServiceCollectionExtensions.AddDiscord"/>.
/// </summary>
public sealed class DiscordGatewayOptions
{
    /// <summary>The intents sent in IDENTIFY; the default receives guilds, roles and channels only.</summary>
    public GatewayIntents Intents { get; set; } = GatewayIntents.Guilds;

    /// <summary>IDENTIFY <c>properties.os</c>: the operating system; defaults to the one the process runs on.</summary>
    public string Os { get; set; } =
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "windows"
        : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "macos"
        : "linux";

    /// <summary>IDENTIFY <c>properties.browser</c>: the library or application name.</summary>
    public string Browser { get; set; } = LibraryName;

    /// <summary>IDENTIFY <c>properties.device</c>: the library or application name.</summary>
    public string Device { get; set; } = LibraryName;

    internal IdentifyProperties Properties => new(Os, Browser, Device);

    private static string LibraryName => typeof(DiscordGatewayOptions).Assembly.GetName().Name!;
}
