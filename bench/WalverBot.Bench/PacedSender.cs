using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace WalverBot.Bench;

/// <summary>
/// The surge's paced sender as a process of its own (the bench re-launched in <c>paced-sender</c> mode), so that what it
/// measures is the bot and the loopback, not the bench process's fake Discord (every request recorded) competing with the
/// sender for its thread pool and garbage collector. Open loop: body n is due at n × (within ÷ count) from the start and is
/// sent by whichever of the connections is free; a post that finds every connection busy waits, and that wait counts.
/// </summary>
public static class PacedSender
{
    /// <summary>What the sender saw, printed as JSON on its stdout.</summary>
    /// <param name="Ok">Answers 200 (the bot's "accepted" and "duplicate" both are).</param>
    /// <param name="Failures">Any other answer, or no answer (connection error, 30 s timeout), by kind.</param>
    /// <param name="FromScheduleMs">Per 200: from the post's scheduled time to its answer read in full (includes the sender's lag).</param>
    /// <param name="FromSendMs">Per 200: from the post's actual send to its answer read in full.</param>
    /// <param name="BehindMs">Per post: how late after its scheduled time it was sent.</param>
    /// <param name="ConnectionWaitMs">Per post: the part of that lateness spent waiting for a free connection (every one
    /// busy with an earlier post when it fell due): the open loop's queue, not the sender's own slowness.</param>
    /// <param name="TimerLateMs">Per post: the rest, from the later of its due time and a free connection to its send (a late
    /// timer, the sender's thread pool or garbage collector): the sender's own share.</param>
    public sealed record Report(int Count, int Ok, Dictionary<string, int> Failures, double Seconds,
        double[] FromScheduleMs, double[] FromSendMs, double[] BehindMs, double[] ConnectionWaitMs, double[] TimerLateMs);

    /// <summary>
    /// Runs the sender as a child process against <paramref name="url"/> with the bodies of <paramref name="bodiesPath"/>
    /// (one JSON body a line) and returns its report.
    /// </summary>
    public static async Task<Report> RunAsync(string url, string bodiesPath, int connections, TimeSpan within)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "WalverBot.Bench.dll"), "paced-sender", "--url", url, "--bodies", bodiesPath,
            "--connections", connections.ToString(CultureInfo.InvariantCulture),
            "--within-ms", ((long)within.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var sender = Process.Start(start)!;
        var errors = sender.StandardError.ReadToEndAsync();
        var output = await sender.StandardOutput.ReadToEndAsync();
        await sender.WaitForExitAsync();
        if (sender.ExitCode != 0)
        {
            throw new InvalidOperationException($"the paced sender failed ({sender.ExitCode}): {await errors}");
        }

        return JsonSerializer.Deserialize<Report>(output, JsonSerializerOptions.Web)
            ?? throw new InvalidOperationException("the paced sender printed no report");
    }

    /// <summary>The child's entry point: <c>paced-sender --url U --bodies FILE --connections N --within-ms M</c>.</summary>
    public static async Task<int> MainAsync(string[] args)
    {
        string Arg(string name) => args[Array.IndexOf(args, name) + 1];
        var url = new Uri(Arg("--url"));
        var connections = int.Parse(Arg("--connections"), CultureInfo.InvariantCulture);
        var within = TimeSpan.FromMilliseconds(long.Parse(Arg("--within-ms"), CultureInfo.InvariantCulture));
        // Bodies encoded before the clock starts: the schedule pays for sending only.
        var bodies = File.ReadLines(Arg("--bodies")).Where(l => l.Length > 0).Select(System.Text.Encoding.UTF8.GetBytes).ToArray();
        using var http = Load.Client(connections);

        // Open every connection and JIT the client's path before the schedule starts (GET /healthz: not a webhook, so
        // neither the bot's inbox nor its webhook duration histogram sees it).
        var health = new Uri(url, "/healthz");
        for (var round = 0; round < 3; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
            {
                using var response = await http.GetAsync(health);
                response.EnsureSuccessStatusCode();
            }));
        }

        var report = await SendAsync(http, url, bodies, connections, within);
        await using var stdout = Console.OpenStandardOutput();
        await JsonSerializer.SerializeAsync(stdout, report, JsonSerializerOptions.Web);
        return 0;
    }

    private static async Task<Report> SendAsync(HttpClient http, Uri url, byte[][] bodies, int connections, TimeSpan within)
    {
        var total = bodies.Length;
        var counter = -1;
        var failures = new Dictionary<string, int>();
        var fromSchedule = new List<double>[connections];
        var fromSend = new List<double>[connections];
        var behind = new List<double>[connections];
        var queued = new List<double>[connections];
        var timers = new List<double>[connections];
        var gap = within / total;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, connections).Select(async w =>
        {
            var scheduled = fromSchedule[w] = new List<double>(total / connections + 1);
            var sent = fromSend[w] = new List<double>(total / connections + 1);
            var late = behind[w] = new List<double>(total / connections + 1);
            var waitedForConnection = queued[w] = new List<double>(total / connections + 1);
            var timerLate = timers[w] = new List<double>(total / connections + 1);
            int n;
            while ((n = Interlocked.Increment(ref counter)) < total)
            {
                // This worker (one connection) is free from here on: a post due earlier waited for it.
                var free = clock.Elapsed;
                var due = gap * n;
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }

                using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(bodies[n]) };
                message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                var started = clock.Elapsed;
                // A timer may fire a hair early; a post is never counted as sent before its time.
                var lateMs = Math.Max(0, (started - due).TotalMilliseconds);
                late.Add(lateMs);
                var ready = free > due ? free : due;
                waitedForConnection.Add(Math.Max(0, (free - due).TotalMilliseconds));
                timerLate.Add(Math.Max(0, (started - ready).TotalMilliseconds));
                string? failure = null;
                try
                {
                    using var response = await http.SendAsync(message);
                    await response.Content.LoadIntoBufferAsync();
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        failure = $"HTTP {(int)response.StatusCode}";
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    failure = ex.GetType().Name;
                }

                var answeredMs = (clock.Elapsed - started).TotalMilliseconds;
                if (failure is null)
                {
                    sent.Add(answeredMs);
                    scheduled.Add(answeredMs + lateMs);
                }
                else
                {
                    lock (failures)
                    {
                        failures[failure] = failures.GetValueOrDefault(failure) + 1;
                    }
                }
            }
        }).ToList();
        await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        return new Report(total, fromSend.Sum(l => l.Count), failures, seconds,
            [.. fromSchedule.SelectMany(l => l)], [.. fromSend.SelectMany(l => l)], [.. behind.SelectMany(l => l)],
            [.. queued.SelectMany(l => l)], [.. timers.SelectMany(l => l)]);
    }
}
