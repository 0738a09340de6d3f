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
        services.AddHostedService<CommandRegistrationJob>();
        services.AddGatewayEventHandler<InteractionHandler>();

        services.AddScoped<CommandRouter>();
        services.AddScoped<GuildDirectory>();
        services.AddScoped<VerificationAutocomplete>();
        services.AddScoped<ICommandHandler<CreateVerificationCommand>, CreateVerificationHandler>();
        services.AddScoped<ICommandHandler<LinkVerificationCommand>, LinkVerificationHandler>();
        services.AddScoped<ICommandHandler<ListVerificationsCommand>, ListVerificationsHandler>();
        services.AddScoped<ICommandHandler<EnableVerificationCommand>, EnableVerificationHandler>();
        services.AddScoped<ICommandHandler<MemberStatusCommand>, MemberStatusHandler>();
        services.AddScoped<ICommandHandler<LogChannelCommand>, LogChannelHandler>();
        services.AddScoped<ICommandHandler<RecheckCommand>, RecheckHandler>();
        services.AddScoped<ICommandHandler<HoldersCommand>, HoldersHandler>();
        services.AddScoped<PostVerificationHandler>();
        services.AddScoped<ICommandHandler<PostVerificationCommand>, PostVerificationCommandHandler>();
        services.AddScoped<RoleRemovalHandler>();
        services.AddScoped<ICommandHandler<DisableVerificationCommand>, DisableVerificationCommandHandler>();
        services.AddScoped<ICommandHandler<RevokeMemberCommand>, RevokeMemberCommandHandler>();
        services.AddScoped<VerifyHandler>();
        services.AddScoped<ICommandHandler<VerifyCommand>, VerifyCommandHandler>();
        services.AddScoped<ICommandHandler<TiersCommand>, TiersHandler>();

        services.AddSingleton<LogChannelNotifier>();
        services.AddSingleton<IAdminNotifier>(sp => sp.GetRequiredService<LogChannelNotifier>());
        services.AddHostedService<AdminNoticeWorker>();
        return services;
    }
}
