using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using WalverBot.Discord.Rest;

namespace WalverBot.Operations;

public static class OperationsServiceCollectionExtensions
{
    /// <summary>Seconds buckets for request and grant latencies: 1 ms … 60 s.</summary>
    private static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    /// <summary>
    /// Metrics (meters exported by OpenTelemetry's Prometheus exporter) and graceful shutdown:
    /// webhooks refused with 503 once stopping, unfinished events reported, a shutdown that ends
    /// before Docker's 10 s SIGKILL so logs are flushed.
    /// </summary>
    public static IServiceCollection AddOperations(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<BotMetrics>();
        services.AddSingleton<InboxGauges>();
        services.AddHostedService(sp => sp.GetRequiredService<InboxGauges>());
        services.AddSingleton<ShutdownState>();
        services.AddHostedService<ShutdownReporter>();
        services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(8));
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(BotMetrics.MeterName, DiscordMetrics.MeterName)
            .AddMeter("Microsoft.AspNetCore.Hosting")
            .AddPrometheusExporter());
        services.ConfigureOpenTelemetryMeterProvider((provider, metrics) => metrics.AddView(OwnStreams(provider.GetRequiredService<IMeterFactory>())));
        return services;
    }

    /// <summary>
    /// Series one instrument keeps at most. OpenTelemetry sets aside room for that many as each instrument appears; its
    /// default, 2,000, is a large-object array per instrument, and a bot's start and first grant allocated 9 MB instead of
    /// 5 MB and set off full collections (docs/benchmarks.md). The bot's labels are small closed sets (outcomes, routes
    /// and statuses, shards, chains); series beyond the limit are summed into one marked <c>otel.metric.overflow</c>.
    /// </summary>
    private const int SeriesPerInstrument = 500;

    /// <summary>
    /// The one view: this host's instruments only, latencies in <see cref="LatencyBuckets"/>, at most
    /// <see cref="SeriesPerInstrument"/> series each. A meter provider listens to every meter of its names in the
    /// process, and each host's meters (from its <see cref="IMeterFactory"/>) share the names, so without it a host
    /// beside others (tests, an embedding process) would export theirs too.
    /// </summary>
    private static Func<Instrument, MetricStreamConfiguration?> OwnStreams(IMeterFactory own) => instrument =>
        !ReferenceEquals(instrument.Meter.Scope, own) ? MetricStreamConfiguration.Drop
        : instrument.Name is DiscordMetrics.RequestDuration or BotMetrics.GrantLatency or BotMetrics.ProcessingDuration
            ? new ExplicitBucketHistogramConfiguration { Boundaries = LatencyBuckets, CardinalityLimit = SeriesPerInstrument }
            : new MetricStreamConfiguration { CardinalityLimit = SeriesPerInstrument };

    /// <summary><c>GET /metrics</c> (Prometheus text) and the shutdown gate in front of the webhook route.</summary>
    public static WebApplication UseOperations(this WebApplication app)
    {
        // Observable gauges exist once their owner is created.
        app.Services.GetRequiredService<InboxGauges>();
        app.UseOperationsListener();
        app.UseMiddleware<ShutdownGate>();
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
