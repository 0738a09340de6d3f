using WalverBot.Binding;
using WalverBot.Discord;
using WalverBot.Members;
using WalverBot.Security;

namespace WalverBot.Grants;

public static class GrantServiceCollectionExtensions
{
    public static IServiceCollection AddGrants(this IServiceCollection services)
    {
        services.AddOptions<GrantOptions>().BindConfiguration(GrantOptions.SectionName)
            .Validate(o => o.PendingTtl > TimeSpan.Zero, "Grants:PendingTtl must be a positive time span, e.g. 7.00:00:00")
            .Validate(o => o.RetryFor > TimeSpan.Zero, "Grants:RetryFor must be a positive time span, e.g. 1.00:00:00")
            .Validate(o => o.PendingRecheck >= TimeSpan.FromMinutes(1), "Grants:PendingRecheck must be at least one minute, e.g. 00:10:00")
            .ValidateOnStart();
        services.AddOptions<RoleOptions>().BindConfiguration(RoleOptions.SectionName);
        services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.SectionName).ValidateOnStart();
        services.AddWalletSignatureVerification();
        services.AddSingleton<GrantSignal>();
        services.AddSingleton<IdentityCodes>();
        services.AddSingleton<GrantLedger>();
        services.AddSingleton<RestGuildRoleSource>();
        services.AddSingleton<IGuildRoleSource, CachedGuildRoleSource>();
        services.AddGatewayEventHandler<MemberJoinHandler>();
        services.AddScoped<MemberResolver>();
        services.AddSingleton<PendingMembers>();
        services.AddSingleton<PendingGrantReconciler>();
        services.AddGatewayEventHandler<ReconcileOnGuildAvailableHandler>();
        services.AddHostedService<PendingGrantRecheckWorker>();
        services.AddScoped<GrantProcessor>();
        services.AddHostedService<GrantWorker>();
        return services;
    }
}
