namespace WalverBot.Testing.FakeDiscord;

/// <summary>Identity of the fake bot and the clock the fake uses for rate-limit windows and interaction deadlines.</summary>
public sealed class FakeDiscordOptions
{
    public string Token { get; init; } = "fake-bot-token.walverbot.tests";

    public string BotUserId { get; init; } = "1100000000000000001";

    public string BotUsername { get; init; } = "WalverBot";

    /// <summary>For bots created in the developer portal the application id equals the bot user id.</summary>
    public string? ApplicationId { get; init; }

    /// <summary>Clock for rate-limit windows, interaction deadlines and timestamps. Fault delays always use real time.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
