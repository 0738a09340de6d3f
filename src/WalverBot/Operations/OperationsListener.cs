using Microsoft.Extensions.Options;

namespace WalverBot.Operations;

/// <summary><c>Operations:Urls</c>: an optional second listener for <c>/metrics</c> and the health probes.</summary>
public sealed class OperationsOptions
{
    public const string SectionName = "Operations";

    /// <summary>Kestrel URLs (<c>;</c>-separated), e.g. <c>http://0.0.0.0:9090</c>; empty keeps everything on <c>Urls</c>.</summary>
    public string? Urls { get; set; }
}

/// <summary>
/// With <c>Operations:Urls</c> set, the webhook port can be published to the internet while <c>/metrics</c> stays on
/// an internal port: that port serves only <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c>, and <c>/metrics</c> is
/// no longer served on the webhook port. The health probes stay on both, so probes of the webhook port keep working.
/// </summary>
public static class OperationsListener
{
    private static readonly string[] OperationsRoutes = ["/metrics", "/healthz", "/readyz"];

    /// <summary>Adds the operations URLs to the addresses Kestrel binds, after <c>Urls</c>.</summary>
    public static WebApplicationBuilder AddOperationsListener(this WebApplicationBuilder builder)
    {
        var urls = builder.Configuration[WebHostDefaults.ServerUrlsKey];
        builder.Services.AddOptions<OperationsOptions>().BindConfiguration(OperationsOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<OperationsOptions>>(new OperationsOptionsValidator(urls));
        var operations = builder.Configuration[$"{OperationsOptions.SectionName}:Urls"];
        if (!string.IsNullOrWhiteSpace(operations))
        {
            builder.WebHost.UseUrls(string.IsNullOrWhiteSpace(urls) ? operations : $"{urls};{operations}");
        }

        return builder;
    }

    /// <summary>Keeps each route on its port; does nothing when <c>Operations:Urls</c> is not set.</summary>
    public static WebApplication UseOperationsListener(this WebApplication app)
    {
        var ports = Ports(app.Services.GetRequiredService<IOptions<OperationsOptions>>().Value.Urls);
        if (ports.Count > 0)
        {
            app.Use((context, next) =>
            {
                var path = context.Request.Path;
                var allowed = ports.Contains(context.Connection.LocalPort)
                    ? OperationsRoutes.Any(route => path.StartsWithSegments(route, StringComparison.OrdinalIgnoreCase))
                    : !path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase);
                if (allowed)
                {
                    return next(context);
                }

                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        }

        return app;
    }

    internal static IReadOnlySet<int> Ports(string? urls) =>
        Split(urls).Select(url => BindingAddress.Parse(url).Port).ToHashSet();

    internal static IEnumerable<string> Split(string? urls) =>
        urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
}

/// <param name="webhookUrls">Urls as configured, before the operations URLs were added to it.</param>
internal sealed class OperationsOptionsValidator(string? webhookUrls) : IValidateOptions<OperationsOptions>
{
    private const string Key = $"{OperationsOptions.SectionName}:Urls";

    public ValidateOptionsResult Validate(string? name, OperationsOptions options)
    {
        var ports = new HashSet<int>();
        foreach (var url in OperationsListener.Split(options.Urls))
        {
            BindingAddress address;
            try
            {
                address = BindingAddress.Parse(url);
            }
            catch (FormatException)
            {
                return ValidateOptionsResult.Fail($"{Key} must be URLs such as http://0.0.0.0:9090 (separated by ;)");
            }

            // The port is how a request is told apart from a webhook, so it must be fixed.
            if (address.Port <= 0 || address.IsUnixPipe)
            {
                return ValidateOptionsResult.Fail($"{Key} needs a fixed port, e.g. http://0.0.0.0:9090");
            }

            ports.Add(address.Port);
        }

        var webhookPorts = OperationsListener.Split(webhookUrls)
            .Select(url => { try { return BindingAddress.Parse(url).Port; } catch (FormatException) { return -1; } });
        return webhookPorts.Any(ports.Contains)
            ? ValidateOptionsResult.Fail($"{Key} must use another port than Urls: that port serves the webhook")
            : ValidateOptionsResult.Success;
    }
}
