using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WalverBot.Testing.Http;

/// <summary>Starts a Kestrel app on 127.0.0.1 with an OS-chosen port, quiet and independent of the working directory.</summary>
internal static class FakeLoopbackHost
{
    public static async Task<(WebApplication App, Uri BaseAddress)> StartAsync(Action<WebApplication> configure)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Testing",
        });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            // Fakes must accept whatever a hostile test sends; the app under test enforces its own limits.
            kestrel.Limits.MaxRequestBodySize = null;
        });

        var app = builder.Build();
        configure(app);
        await app.StartAsync().ConfigureAwait(false);

        var address = app.Services.GetRequiredService<IServer>().Features
            .Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address.TrimEnd('/') + "/"));
    }
}
