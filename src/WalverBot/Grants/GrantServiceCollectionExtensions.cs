using WalverBot.Binding;
using WalverBot.Discord;
using WalverBot.Members;
using WalverBot.Security;

namespace WalverBot.Grants;

public static class GrantServiceCollectionExtensions
{
    private static readonly TimeSpan MaxSpan = TimeSpan.FromDays(3650);

    public static IServiceCollection AddGrants(this IServiceCollection services)
    {
        services.AddOptions<GrantOptions>().BindConfiguration(GrantOptions.SectionName)
            // Bounded so that "now + span" stays a date (DateTimeOffset ends at year 9999).
            .Validate(o => o.PendingTtl > TimeSpan.Zero && o.PendingTtl <= MaxSpan, "Grants:PendingTtl must be a positive time span of at most 3650.00:00:00, e.g. 7.00:00:00")
            .Validate(o => o.RetryFor > TimeSpan.Zero && o.RetryFor <= MaxSpan, "Grants:RetryFor must be a positive time span of at most 3650.00:00:00, e.g. 1.00:00:00")
            .Validate(o => o.PendingRecheck >= TimeSpan.FromMinutes(1) && o.PendingRecheck <= MaxSpan, "Grants:PendingRecheck must be a time span of at least one minute and at most 3650.00:00:00, e.g. 00:10:00")
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
