using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WalverBot.Chains;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.Chains;

/// <summary>
/// The chain readers as the bot composes them (AddChains: options, HttpClient pipeline, rate limit), with every log line
/// captured and every HTTP attempt counted by a handler placed last, next to the socket.
/// </summary>
public sealed class ChainTestHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private ChainTestHost(ServiceProvider services, CapturedLogs logs, RequestCounter counter)
    {
        _services = services;
        Logs = logs;
        Requests = counter;
    }

    public IChainReader Reader => _services.GetRequiredService<IChainReader>();

    public IServiceProvider Services => _services;

    public CapturedLogs Logs { get; }

    public RequestCounter Requests { get; }

    public static ChainTestHost Create(IDictionary<string, string?> settings, Action<ChainReadTuning>? tune = null, Action<IServiceCollection>? configure = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var logs = new CapturedLogs();
        var counter = new RequestCounter();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        services.AddChains();

        services.Configure<ChainReadTuning>(tuning =>
        {
            // Fast retries: the tests count attempts, they do not wait out real backoff.
            tuning.RetryBaseDelay = TimeSpan.FromMilliseconds(5);
            tuning.MaxRetryDelay = TimeSpan.FromMilliseconds(20);
            tuning.AttemptTimeout = TimeSpan.FromSeconds(20);
            tune?.Invoke(tuning);
        });
        foreach (var chain in WalverBot.Verifications.KnownChains.All)
        {
            services.AddHttpClient(ChainServiceCollectionExtensions.ClientName(chain)).AddHttpMessageHandler(() => new CountingHandler(counter));
        }

        configure?.Invoke(services);
        return new ChainTestHost(services.BuildServiceProvider(), logs, counter);
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    /// <summary>HTTP attempts that reached the wire, with their bodies.</summary>
    public sealed class RequestCounter
    {
        private readonly ConcurrentQueue<string> _bodies = new();

        public int Count => _bodies.Count;

        public IReadOnlyList<string> Bodies => [.. _bodies];

        public void Clear() => _bodies.Clear();

        internal void Add(string body) => _bodies.Enqueue(body);
    }

    private sealed class CountingHandler(RequestCounter counter) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            counter.Add(request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken));
            return await base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>One anvil for a test class; each test deploys its own tokens.</summary>
public sealed class AnvilFixture : IAsyncLifetime
{
    public WalverBot.Testing.Chains.AnvilNode Node { get; private set; } = null!;

    public async Task InitializeAsync() => Node = await WalverBot.Testing.Chains.AnvilNode.StartAsync();

    public async Task DisposeAsync()
    {
        if (Node is not null)
        {
            await Node.DisposeAsync();
        }
    }
}
