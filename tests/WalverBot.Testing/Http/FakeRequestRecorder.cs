using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace WalverBot.Testing.Http;

/// <summary>
/// Thread-safe log of the requests a fake received, each stamped on arrival, with waits that wake on every
/// arrival and answer (no polling) and fail with a message listing what did arrive.
/// </summary>
public sealed class FakeRequestRecorder
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private readonly List<FakeRecordedRequest> _requests = [];
    private readonly TimeProvider _time;
    private readonly FakeSignal _signal;
    private readonly long _started = Stopwatch.GetTimestamp();

    internal FakeRequestRecorder(TimeProvider time, FakeSignal signal)
    {
        _time = time;
        _signal = signal;
    }

    public IReadOnlyList<FakeRecordedRequest> Snapshot()
    {
        lock (_gate)
        {
            return [.. _requests];
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _requests.Clear();
        }
    }

    /// <summary>Waits until a request matching <paramref name="match"/> has arrived (answered or not) and returns the first such.</summary>
    public async Task<FakeRecordedRequest> WaitForArrivalAsync(Func<FakeRecordedRequest, bool> match, TimeSpan? timeout = null, string description = "a matching request") =>
        (await WaitForArrivalsAsync(match, 1, timeout, description).ConfigureAwait(false))[0];

    /// <summary>Waits until <paramref name="count"/> requests matching <paramref name="match"/> have arrived; returns every match so far.</summary>
    public async Task<IReadOnlyList<FakeRecordedRequest>> WaitForArrivalsAsync(Func<FakeRecordedRequest, bool> match, int count, TimeSpan? timeout = null, string description = "matching requests")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        await _signal.WaitUntilAsync(() => Matching(match).Count >= count, timeout ?? DefaultTimeout, $"{count} x {description}", Arrived).ConfigureAwait(false);
        return Matching(match);
    }

    internal async Task<FakeRecordedRequest> RecordAsync(HttpContext context)
    {
        // Stamped before the body is read: arrival, not the end of a slow upload.
        var timestamp = _time.GetUtcNow();
        var arrivedAfter = Stopwatch.GetElapsedTime(_started);
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        var bytes = buffer.ToArray();
        // Handlers read the body again (JSON or multipart form) from the captured copy.
        context.Request.Body = new MemoryStream(bytes, writable: false);

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in context.Request.Headers)
        {
            headers[name] = value.ToString();
        }

        var request = new FakeRecordedRequest
        {
            Method = context.Request.Method,
            Path = context.Request.Path.Value ?? "/",
            Query = context.Request.QueryString.Value ?? "",
            Headers = headers,
            Body = Encoding.UTF8.GetString(bytes),
            BodyBytes = bytes,
            Timestamp = timestamp,
            ArrivedAfter = arrivedAfter,
        };

        lock (_gate)
        {
            _requests.Add(request);
        }

        _signal.Pulse();
        return request;
    }

    internal void Answered(FakeRecordedRequest request, int? status)
    {
        request.Status = status;
        _signal.Pulse();
    }

    private List<FakeRecordedRequest> Matching(Func<FakeRecordedRequest, bool> match)
    {
        lock (_gate)
        {
            return [.. _requests.Where(match)];
        }
    }

    private string Arrived()
    {
        var requests = Snapshot();
        return requests.Count == 0
            ? "No request arrived."
            : $"{requests.Count} arrived:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", requests.TakeLast(30));
    }
}
