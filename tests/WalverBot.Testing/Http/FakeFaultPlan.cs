namespace WalverBot.Testing.Http;

/// <summary>
/// Faults queued for the next N requests matching a method and a path pattern. Patterns are
/// relative to the fake's API root; a segment that is <c>*</c> or <c>{name}</c> matches any one
/// segment, a trailing <c>**</c> matches the rest. Method <c>*</c> matches any method.
/// An outage, while it lasts, answers every request with one status before any queued fault.
/// </summary>
internal sealed class FakeFaultPlan
{
    private readonly Lock _gate = new();
    private readonly List<Entry> _entries = [];
    private int? _outageStatus;

    /// <summary>The status every request gets while the service is down, or null while it is up.</summary>
    public int? OutageStatus
    {
        get
        {
            lock (_gate)
            {
                return _outageStatus;
            }
        }
    }

    public void BeginOutage(int status)
    {
        lock (_gate)
        {
            _outageStatus = status;
        }
    }

    public void EndOutage()
    {
        lock (_gate)
        {
            _outageStatus = null;
        }
    }

    public void Add(string method, string pathPattern, FakeFault fault, int times)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(times);
        lock (_gate)
        {
            _entries.Add(new Entry(method, pathPattern, fault) { Remaining = times });
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _entries.Clear();
        }
    }

    /// <summary>
    /// The next fault queued for this request, one per queued entry: <paramref name="taken"/> holds the entries this
    /// request already used (compared by reference), so a delay queued <c>times: 3</c> delays three requests once each,
    /// not the first one three times.
    /// </summary>
    public bool TryTake(string method, string path, ISet<object> taken, out FakeFault fault)
    {
        lock (_gate)
        {
            foreach (var entry in _entries)
            {
                if (entry.Remaining > 0 && !taken.Contains(entry) && FakePathPattern.IsMatch(entry.Method, entry.Pattern, method, path))
                {
                    taken.Add(entry);
                    entry.Remaining--;
                    fault = entry.Fault;
                    if (entry.Remaining == 0)
                    {
                        _entries.Remove(entry);
                    }

                    return true;
                }
            }
        }

        fault = null!;
        return false;
    }

    private sealed record Entry(string Method, string Pattern, FakeFault Fault)
    {
        public int Remaining { get; set; }
    }
}
