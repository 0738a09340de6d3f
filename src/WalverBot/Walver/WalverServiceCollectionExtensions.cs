namespace WalverBot.Walver;

public static class WalverServiceCollectionExtensions
{
    public static IServiceCollection AddWalver(this IServiceCollection services)
    {
        services.AddOptions<WalverOptions>().BindConfiguration(WalverOptions.SectionName)
            .Validate(o => Uri.TryCreate(o.BaseUrl, UriKind.Absolute, out _), "Walver:BaseUrl must be an absolute URL")
            .ValidateOnStart();
        return services;
    }
}
