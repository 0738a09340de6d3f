using System.Collections.Concurrent;

namespace WalverBot.Discord.Gateway;

/// <summary>Readiness of every shard of the process; ready only while each one holds a READY or RESUMED session.</summary>
internal sealed class GatewayStatus : IGatewayStatus
{
    private readonly ConcurrentDictionary<int, string?> _notReady = new();
    private readonly TaskCompletionSource<GatewayStop> _whenStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _started;

    public bool IsReady => _started && _notReady.Values.All(reason => reason is null);

    public string? NotReadyReason
    {
        get
        {
            if (!_started)
            {
                return "gateway not started";
            }

            var waiting = _notReady.Where(s => s.Value is not null).OrderBy(s => s.Key).Select(s => $"shard {s.Key}: {s.Value}").ToList();
            return waiting.Count == 0 ? null : string.Join("; ", waiting);
        }
    }

    /// <summary>Declares the shards this process runs, all not ready yet.</summary>
    public void Start(IEnumerable<int> shardIds)
    {
        foreach (var id in shardIds)
        {
            _notReady[id] = "starting";
        }

        _started = true;
    }

    public void SetReady(int shardId) => _notReady[shardId] = null;

    public void SetNotReady(int shardId, string reason) => _notReady[shardId] = reason;

    public GatewayStop? Stopped => _whenStopped.Task.IsCompleted ? _whenStopped.Task.Result : null;

    public Task<GatewayStop> WhenStopped => _whenStopped.Task;

    /// <summary>Marks the whole gateway stopped for good (a fatal close or an unexpected error), with why.</summary>
    public void SetStopped(GatewayStop stop)
    {
        var reason = stop.ToString();
        _started = true;
        foreach (var id in _notReady.Keys)
        {
            _notReady[id] = reason;
        }

        if (_notReady.IsEmpty)
        {
            _notReady[0] = reason;
        }

        // The first stop is the one reported; a later one (another shard ending) changes nothing.
        _whenStopped.TrySetResult(stop);
    }
}
