using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace WalverBot.Bench;

/// <summary>Runs wrk (the HTTP load generator Debian packages) and reads its summary.</summary>
public static partial class Wrk
{
    /// <param name="Run">The run number a scripted run put in its deliveries (0 for plain GETs).</param>
    public sealed record Result(double PerSecond, long Requests, long NotOk, double P50Ms, double P99Ms, int Run);

    private static int _runs;

    public static bool IsInstalled()
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo("wrk", "--version") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            probe.WaitForExit();
            return true;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <param name="script">A wrk Lua script, or null for plain GETs.</param>
    /// <param name="template">The webhook body template the script reads (WEBHOOK_TEMPLATE).</param>
    /// <param name="run">The run number the script puts in each delivery: a new one unless given (to send repeats).</param>
    public static async Task<Result> RunAsync(string url, int connections, int seconds, string? script = null, string? template = null, int? run = null)
    {
        var start = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-t2", $"-c{connections}", $"-d{seconds}s", "--latency" })
        {
            start.ArgumentList.Add(argument);
        }

        var runNumber = 0;
        if (script is not null)
        {
            runNumber = run ?? Interlocked.Increment(ref _runs);
            start.ArgumentList.Add("-s");
            start.ArgumentList.Add(script);
            start.Environment["WEBHOOK_TEMPLATE"] = template;
            start.Environment["WEBHOOK_RUN"] = runNumber.ToString(CultureInfo.InvariantCulture);
        }

        start.ArgumentList.Add(url);
        using var wrk = Process.Start(start)!;
        var output = await wrk.StandardOutput.ReadToEndAsync();
        var errors = await wrk.StandardError.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        if (wrk.ExitCode != 0)
        {
            throw new InvalidOperationException($"wrk failed ({wrk.ExitCode}): {errors}{output}");
        }

        var perSecond = double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var requests = long.Parse(RequestCount().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var notOkMatch = NotOk().Match(output);
        var notOk = notOkMatch.Success ? long.Parse(notOkMatch.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        // Requests wrk did not finish (socket errors, timeouts) are not answers either.
        var errorsMatch = SocketErrors().Match(output);
        if (errorsMatch.Success)
        {
            notOk += errorsMatch.Groups.Cast<Group>().Skip(1).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture));
        }

        return new Result(perSecond, requests, notOk, Percentile(output, "50"), Percentile(output, "99"), runNumber);
    }

    private static double Percentile(string output, string percent)
    {
        var match = Regex.Match(output, $@"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "us" => value / 1000,
            "ms" => value,
            _ => value * 1000,
        };
    }

    [GeneratedRegex(@"^Requests/sec:\s+([\d.]+)", RegexOptions.Multiline)]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s+(\d+) requests in", RegexOptions.Multiline)]
    private static partial Regex RequestCount();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex NotOk();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();
}
