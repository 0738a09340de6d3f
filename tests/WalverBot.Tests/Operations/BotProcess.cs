using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using WalverBot.Testing.FakeDiscord;

namespace WalverBot.Tests.Operations;

/// <summary>
/// The built WalverBot.dll as a real process (for faults that are process faults: kill -9, SIGTERM, exit codes),
/// configured by environment variables like an operator's container. Output lines are kept for assertions.
/// </summary>
public sealed partial class BotProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly ConcurrentQueue<string> _error = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private BotProcess(Process process) => _process = process;

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "WalverBot.dll");

    public int Id => _process.Id;

    public IReadOnlyList<string> Output => [.. _output];

    public string AllOutput => string.Join('\n', _output) + "\n" + string.Join('\n', _error);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The environment a bot needs to run against the fakes, on a loopback port chosen by the OS.</summary>
    public static Dictionary<string, string> EnvironmentFor(FakeDiscordServer discord, string databasePath) => new()
    {
        ["Discord__Token"] = discord.Token,
        ["Discord__ApiBaseUrl"] = discord.ApiBaseUrl,
        ["ConnectionStrings__WalverBot"] = $"Data Source={databasePath}",
        ["Urls"] = "http://127.0.0.1:0",
        ["Webhook__PublicBaseUrl"] = "https://bot.example.test",
        ["DOTNET_gcServer"] = "0",
    };

    public static BotProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Dll, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Discord__", StringComparison.Ordinal) || k.StartsWith("Verifications__", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var bot = new BotProcess(new Process { StartInfo = start, EnableRaisingEvents = true });
        bot._process.OutputDataReceived += (_, e) => bot.OnLine(e.Data, bot._output);
        bot._process.ErrorDataReceived += (_, e) => bot.OnLine(e.Data, bot._error);
        bot._process.Exited += (_, _) => bot._listening.TrySetException(new InvalidOperationException($"the bot exited before listening:\n{bot.AllOutput}"));
        bot._process.Start();
        bot._process.BeginOutputReadLine();
        bot._process.BeginErrorReadLine();
        return bot;
    }

    /// <summary>Runs an operator command (check, backup, --health) to its end.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(IReadOnlyDictionary<string, string> environment, TimeSpan timeout, params string[] args)
    {
        await using var command = Start(environment, args);
        using var cancel = new CancellationTokenSource(timeout);
        await command._process.WaitForExitAsync(cancel.Token);
        command._process.WaitForExit(); // drains the asynchronous output readers
        return (command.ExitCode, command.AllOutput);
    }

    /// <summary>The base URL once Kestrel logs "Now listening on".</summary>
    /// <remarks>
    /// The default is only reached on failure: a child .NET process starting under a loaded suite (load 40 on two cores)
    /// took more than 30 s to listen, twice in one run. An exit before listening ends the wait at once.
    /// </remarks>
    public Task<string> WaitForListeningAsync(TimeSpan? timeout = null) => _listening.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(90));

    /// <summary>kill -9: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as <c>docker stop</c> sends; waits for the process to end.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        // Through libc: the SDK container that builds the image has no /bin/kill.
        if (SendSignal(_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        _process.WaitForExit();
    }

    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        bool Seen() => _output.Any(l => l.Contains(text, StringComparison.Ordinal));

        // An exited process writes no more: stop waiting then too.
        await Eventually.UntilAsync(() => Seen() || _process.HasExited, $"an output line with \"{text}\"", timeout, () => AllOutput);
        if (!Seen())
        {
            throw new TimeoutException($"the bot exited without an output line with \"{text}\":\n{AllOutput}");
        }
    }

    private void OnLine(string? line, ConcurrentQueue<string> lines)
    {
        if (line is null)
        {
            return;
        }

        lines.Enqueue(line);
        if (line.Contains("Now listening on", StringComparison.Ordinal) && ListeningUrl().Match(line) is { Success: true } match)
        {
            _listening.TrySetResult(match.Value);
        }
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex ListeningUrl();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
