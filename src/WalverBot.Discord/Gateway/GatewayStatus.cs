using System.Collections.Concurrent;

namespace WalverBot.Discord.Gateway;

/// <summary>Readiness of every shard of the process; ready only while each one holds a READY or RESUMED session.</summary>
internal sealed class GatewayStatus : IGatewayStatus
{
    private readonly ConcurrentDictionary<int, string?> _notReady = new();
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

    /// <summary>Marks the whole gateway stopped (a fatal close or an unexpected error), with why.</summary>
    public void SetStopped(string reason)
    {
        _started = true;
        foreach (var id in _notReady.Keys)
        {
            _notReady[id] = reason;
        }

        if (_notReady.IsEmpty)
        {
            _notReady[0] = reason;
        }
    }
}
