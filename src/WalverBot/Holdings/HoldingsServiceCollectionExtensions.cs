using WalverBot.Discord;
using WalverBot.Members;

namespace WalverBot.Holdings;

public static class HoldingsServiceCollectionExtensions
{
    private static readonly TimeSpan MaxSpan = TimeSpan.FromDays(3650);

    public static IServiceCollection AddHoldings(this IServiceCollection services)
    {
        services.AddOptions<RecheckOptions>().BindConfiguration(RecheckOptions.SectionName)
            .Validate(o => o.Interval >= TimeSpan.FromMinutes(1) && o.Interval <= MaxSpan, "Rechecks:Interval must be a time span of at least one minute and at most 3650.00:00:00, e.g. 1.00:00:00")
            .Validate(o => o.Grace >= TimeSpan.Zero && o.Grace <= MaxSpan, "Rechecks:Grace must be a time span of at least zero and at most 3650.00:00:00, e.g. 01:00:00")
            .Validate(o => o.MaxRemovalFraction > 0 && o.MaxRemovalFraction <= 1, "Rechecks:MaxRemovalFraction must be a number above 0 and at most 1, e.g. 0.1")
            .ValidateOnStart();
        services.AddSingleton<HoldingsStore>();
        services.AddSingleton<RecheckLocks>();
        services.AddScoped<RecheckEngine>();
        services.AddSingleton<RecheckScheduler>();
        services.AddHostedService<RecheckWorker>();
        services.AddGatewayEventHandler<HoldingsRejoinHandler>();
        return services;
    }
}
