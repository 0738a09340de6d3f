using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using WalverBot.Testing.Http;

namespace WalverBot.Testing.FakeDiscord;

/// <summary>What the bot did on the fake gateway (connections, IDENTIFY, RESUME, heartbeats, op 8) and what the fake answered, for assertions and waits.</summary>
internal sealed class FakeGatewayRecorder
{
    private readonly List<FakeGatewayConnection> _connections = [];
    private readonly List<FakeGatewayIdentify> _identifies = [];
    private readonly List<FakeGatewayResume> _resumes = [];
    private readonly List<FakeGatewayHeartbeat> _heartbeats = [];
    private readonly List<FakeGatewayMemberRequest> _memberRequests = [];
    private int _readyCount;
    private int _resumedCount;
    private int _identifiesRefused;
    private int _allMembersRateLimited;

    /// <summary>Guards the records, the sessions and every connection's state.</summary>
    public Lock Gate { get; } = new();

    public FakeSignal Signal { get; } = new();

    public IReadOnlyList<FakeGatewayIdentify> Identifies => Copy(_identifies);

    public IReadOnlyList<FakeGatewayResume> Resumes => Copy(_resumes);

    public IReadOnlyList<FakeGatewayHeartbeat> Heartbeats => Copy(_heartbeats);

    public IReadOnlyList<FakeGatewayMemberRequest> MemberRequests => Copy(_memberRequests);

    public IReadOnlyList<FakeGatewayConnectionInfo> Connections
    {
        get { lock (Gate) { return [.. _connections.Select(c => c.Info())]; } }
    }

    public int ConnectionCount
    {
        get { lock (Gate) { return _connections.Count; } }
    }

    public int ReadyCount => Volatile.Read(ref _readyCount);

    public int ResumedCount => Volatile.Read(ref _resumedCount);

    public int IdentifiesRefused => Volatile.Read(ref _identifiesRefused);

    public int AllMembersRateLimited => Volatile.Read(ref _allMembersRateLimited);

    public FakeGatewayConnection AddConnection(WebSocket socket, HttpContext context, string path)
    {
        FakeGatewayConnection connection;
        lock (Gate)
        {
            connection = new FakeGatewayConnection(_connections.Count + 1, socket, context, path, context.Request.QueryString.Value ?? "", Gate, Signal.Pulse);
            _connections.Add(connection);
        }

        Signal.Pulse();
        return connection;
    }

    public List<FakeGatewayConnection> Open()
    {
        lock (Gate)
        {
            return [.. _connections.Where(c => c.Open)];
        }
    }

    public void Add(FakeGatewayIdentify identify) => Add(_identifies, identify);

    public void Add(FakeGatewayResume resume) => Add(_resumes, resume);

    public void Add(FakeGatewayHeartbeat heartbeat) => Add(_heartbeats, heartbeat);

    public void Add(FakeGatewayMemberRequest request) => Add(_memberRequests, request);

    public void CountReady() => Count(ref _readyCount);

    public void CountResumed() => Count(ref _resumedCount);

    public void CountRefusedIdentify() => Count(ref _identifiesRefused);

    public void CountAllMembersRateLimited() => Count(ref _allMembersRateLimited);

    private void Count(ref int counter)
    {
        Interlocked.Increment(ref counter);
        Signal.Pulse();
    }

    private void Add<T>(List<T> list, T item)
    {
        lock (Gate)
        {
            list.Add(item);
        }

        Signal.Pulse();
    }

    private List<T> Copy<T>(List<T> list)
    {
        lock (Gate)
        {
            return [.. list];
        }
    }
}
