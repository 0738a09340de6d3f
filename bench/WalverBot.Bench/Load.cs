using System.Diagnostics;
using System.Net;

namespace WalverBot.Bench;

/// <summary>A closed-loop load: <c>connections</c> workers each send one request after the other for a fixed time.</summary>
public static class Load
{
    public sealed record Result(string Name, int Requests, int Failures, double Seconds, double[] LatenciesMs)
    {
        public double PerSecond => Requests / Seconds;

        public double Percentile(double p)
        {
            if (LatenciesMs.Length == 0)
            {
                return double.NaN;
            }

            var sorted = LatenciesMs.Order().ToArray();
            return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
        }
    }

    public static HttpClient Client(int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        UseProxy = false,
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    /// <param name="request">Makes request number n (0, 1, 2 … across all workers).</param>
    /// <param name="expect">Whether an answer counts as a success.</param>
    public static async Task<Result> RunAsync(
        string name, HttpClient http, int connections, TimeSpan duration, Func<int, HttpRequestMessage> request, Func<HttpStatusCode, bool> expect)
    {
        var counter = -1;
        var failures = 0;
        var latencies = new List<double>[connections];
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, connections).Select(async w =>
        {
            var mine = latencies[w] = new List<double>(100_000);
            while (clock.Elapsed < duration)
            {
                using var message = request(Interlocked.Increment(ref counter));
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await http.SendAsync(message);
                    await response.Content.LoadIntoBufferAsync();
                    if (expect(response.StatusCode))
                    {
                        mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                    else
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }).ToList();
        await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).ToArray();
        return new Result(name, all.Length, failures, seconds, all);
    }
}
