using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace WalverBot.Tests.Hosting;

/// <summary>Every log line the bot writes, rendered, for assertions (e.g. that no secret is ever logged).</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public string All => string.Join('\n', _lines);

    /// <summary>Waits until a line contains <paramref name="text"/>; a timeout shows the last lines.</summary>
    public Task WaitForLineAsync(string text, TimeSpan? timeout = null) =>
        Eventually.UntilAsync(
            () => _lines.Any(l => l.Contains(text, StringComparison.Ordinal)), $"a log line with '{text}'", timeout,
            () => "log:\n" + string.Join('\n', Lines.TakeLast(40)));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
    }
}
