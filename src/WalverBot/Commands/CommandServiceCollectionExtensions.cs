using WalverBot.Discord;

namespace WalverBot.Commands;

public static class CommandServiceCollectionExtensions
{
    /// <summary>Slash commands: registration at READY, interaction handling, and log-channel notices.</summary>
    public static IServiceCollection AddCommands(this IServiceCollection services)
    {
        services.AddSingleton<CommandStore>();
        services.AddSingleton<CommandRegistrar>();
        services.AddGatewayEventHandler<CommandRegistrationHandler>();
        services.AddGatewayEventHandler<InteractionHandler>();

        services.AddScoped<CommandRouter>();
        services.AddScoped<GuildDirectory>();
        services.AddScoped<VerificationAutocomplete>();
        services.AddScoped<CreateVerificationHandler>();
        services.AddScoped<LinkVerificationHandler>();
        services.AddScoped<ListVerificationsHandler>();
        services.AddScoped<PostVerificationHandler>();
        services.AddScoped<RoleRemovalHandler>();
        services.AddScoped<EnableVerificationHandler>();
        services.AddScoped<MemberStatusHandler>();
        services.AddScoped<LogChannelHandler>();
        services.AddScoped<VerifyHandler>();

        services.AddSingleton<LogChannelNotifier>();
        services.AddSingleton<IAdminNotifier>(sp => sp.GetRequiredService<LogChannelNotifier>());
        services.AddHostedService<AdminNoticeWorker>();
        return services;
    }
}
