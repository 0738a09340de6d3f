using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace WalverBot.Chains;

/// <summary>One token bucket per RPC endpoint (<c>Chains:{chain}:RequestsPerSecond</c>), refilled every second.</summary>
public sealed class RpcRateLimiters : IDisposable
{
    private readonly Dictionary<string, TokenBucketRateLimiter> _limiters = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();
    private readonly IOptions<ChainsOptions> _options;
    private readonly ChainReadTuning _tuning;

    public RpcRateLimiters(IOptions<ChainsOptions> options, IOptions<ChainReadTuning> tuning)
    {
        _options = options;
        _tuning = tuning.Value;
    }

    public RateLimiter For(string chain)
    {
        lock (_gate)
        {
            if (_limiters.TryGetValue(chain, out var existing))
            {
                return existing;
            }

            var rate = _options.Value.TryGet(chain, out var endpoint) ? endpoint.RequestsPerSecond : ChainsOptions.DefaultRequestsPerSecond;
            var bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = rate,
                TokensPerPeriod = rate,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                AutoReplenishment = true,
                QueueLimit = _tuning.RateLimitQueue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
            _limiters[chain] = bucket;
            return bucket;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var bucket in _limiters.Values)
            {
                bucket.Dispose();
            }

            _limiters.Clear();
        }
    }
}

/// <summary>Takes one token per attempt (inside the retry), so retries count against the endpoint's limit too.</summary>
internal sealed class RpcRateLimitHandler(RpcRateLimiters limiters, string chain) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var lease = await limiters.For(chain).AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            throw new ChainReadException(chain, $"{chain}: too many RPC requests waiting for Chains:{chain}:RequestsPerSecond");
        }

        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
