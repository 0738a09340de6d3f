using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace WalverBot.Testing.Chains;

/// <summary>
/// Solana's PubSub WebSocket as https://solana.com/docs/rpc/websocket shows it: <c>accountSubscribe</c> answers a
/// subscription id (<c>{"jsonrpc":"2.0","result":23784,"id":1}</c>); every change of a subscribed account sends
/// <c>accountNotification</c> with <c>params.result.context.slot</c>, <c>params.result.value</c> {lamports, data, owner,
/// executable, rentEpoch, space} and <c>params.subscription</c>; <c>accountUnsubscribe</c> answers <c>true</c> (an unknown
/// id is an error); a bad pubkey is -32602. Subscriptions belong to their connection and end with it. The test can
/// drop every connection, refuse new ones, and send a notification for a subscription id nobody holds.
/// </summary>
public sealed partial class FakeSolanaRpc
{
    private const string SystemProgram = "11111111111111111111111111111111";
    private const ulong TokenAccountRent = 2039280; // rent-exempt minimum of a 165-byte account
    private readonly ConcurrentDictionary<int, PubSubConnection> _connections = new();
    private readonly ConcurrentQueue<string> _subscribed = new();
    private readonly ConcurrentQueue<string> _unsubscribed = new();
    private long _nextSubscription = 23784;
    private int _connectionCount;
    private int _refused;

    /// <summary>Answers the WebSocket upgrade with 503 while set: the endpoint is down.</summary>
    public bool RefuseWebSockets { get; set; }

    /// <summary>WebSocket upgrades answered 503 while <see cref="RefuseWebSockets"/> was set.</summary>
    public int RefusedWebSockets => Volatile.Read(ref _refused);

    /// <summary>WebSocket connections accepted so far.</summary>
    public int WebSocketConnections => Volatile.Read(ref _connectionCount);

    /// <summary>Every account an accountSubscribe named, in order, over all connections (a resubscription shows twice).</summary>
    public IReadOnlyList<string> SubscribeRequests => [.. _subscribed];

    /// <summary>Accounts whose subscription accountUnsubscribe ended.</summary>
    public IReadOnlyList<string> UnsubscribedAccounts => [.. _unsubscribed];

    /// <summary>Accounts with a live subscription on an open connection: one whose id the answer has already given the client.</summary>
    public IReadOnlySet<string> SubscribedAccounts => _connections.Values.SelectMany(c => c.Subscriptions.Values).Select(s => s.Account).ToHashSet(StringComparer.Ordinal);

    /// <summary>Sets a token account's amount at a new slot and notifies its subscribers, as the chain does after a transfer.</summary>
    public async Task SetTokenAmountAsync(string owner, string mint, BigInteger amount)
    {
        TokenAccount changed;
        lock (_gate)
        {
            var index = _accounts.FindIndex(a => a.Owner == owner && a.Mint == mint);
            if (index < 0)
            {
                throw new InvalidOperationException($"{owner} has no token account of {mint}");
            }

            _accounts[index] = changed = _accounts[index] with { Amount = amount };
            Slot++;
        }

        await NotifyAsync(changed.Pubkey, encoding => AccountValue(changed, encoding));
    }

    /// <summary>Closes the owner's token account (a sale of everything, rent reclaimed): lamports 0, owned by the system program.</summary>
    public async Task CloseTokenAccountAsync(string owner, string mint)
    {
        TokenAccount closed;
        lock (_gate)
        {
            var index = _accounts.FindIndex(a => a.Owner == owner && a.Mint == mint);
            closed = _accounts[index];
            _accounts.RemoveAt(index);
            Slot++;
        }

        await NotifyAsync(closed.Pubkey, encoding => new JsonObject
        {
            ["data"] = new JsonArray("", "base64"), ["executable"] = false, ["lamports"] = 0, ["owner"] = SystemProgram, ["rentEpoch"] = 0, ["space"] = 0,
        });
    }

    /// <summary>Sets a wallet's SOL balance at a new slot and notifies the subscribers of the wallet's own account.</summary>
    public async Task SetLamportsAsync(string owner, ulong lamports)
    {
        lock (_gate)
        {
            _lamports[owner] = lamports;
            Slot++;
        }

        await NotifyAsync(owner, encoding => new JsonObject
        {
            ["data"] = new JsonArray("", "base64"), ["executable"] = false, ["lamports"] = lamports, ["owner"] = SystemProgram, ["rentEpoch"] = 18446744073709551615UL, ["space"] = 0,
        });
    }

    /// <summary>A notification for a subscription id no client holds (as one arriving just after its accountUnsubscribe).</summary>
    public async Task SendStrayNotificationAsync()
    {
        var stray = (ulong)Interlocked.Increment(ref _nextSubscription) + 1_000_000;
        foreach (var connection in _connections.Values)
        {
            await connection.SendAsync(Notification(stray, new JsonObject
            {
                ["data"] = new JsonArray("", "base64"), ["executable"] = false, ["lamports"] = TokenAccountRent, ["owner"] = TokenProgram, ["rentEpoch"] = 0, ["space"] = 165,
            }));
        }
    }

    /// <summary>Drops every open WebSocket without a close frame, as a provider restart or a network cut does.</summary>
    public void DropWebSockets()
    {
        foreach (var connection in _connections.Values)
        {
            connection.Context.Abort();
        }
    }

    private async Task HandleWebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 400;
            return;
        }

        if (RefuseWebSockets)
        {
            Interlocked.Increment(ref _refused);
            context.Response.StatusCode = 503;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var connection = new PubSubConnection(Interlocked.Increment(ref _connectionCount), context, socket);
        _connections[connection.Number] = connection;
        try
        {
            var buffer = new byte[64 * 1024];
            while (socket.State == WebSocketState.Open)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                        return;
                    }

                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);

                await connection.SendAsync(Handle(connection, Encoding.UTF8.GetString(message.ToArray())));
                // A node notifies a subscription only after it answered the subscribe with its id: the client cannot
                // know the id of a notification that overtook that answer.
                if (connection.Answered is { } answered)
                {
                    connection.Subscriptions[answered.Id] = answered.Subscription;
                    connection.Answered = null;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // Dropped (by the client or DropWebSockets): its subscriptions end with it.
        }
        finally
        {
            _connections.TryRemove(connection.Number, out _);
        }
    }

    private JsonObject Handle(PubSubConnection connection, string text)
    {
        JsonObject? request;
        try
        {
            request = JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            return Error(null, -32700, "Parse error");
        }

        var id = request?["id"]?.DeepClone();
        var parameters = request?["params"] as JsonArray ?? [];
        switch (request?["method"]?.GetValue<string>())
        {
            case "accountSubscribe":
                var account = parameters.Count > 0 && parameters[0] is JsonValue value && value.TryGetValue<string>(out var key) ? key : null;
                if (account is null || Decode32(account) is null)
                {
                    return Error(id, -32602, "Invalid param: Invalid");
                }

                var encoding = parameters.Count > 1 ? parameters[1]?["encoding"]?.GetValue<string>() ?? "base58" : "base58";
                var subscription = (ulong)Interlocked.Increment(ref _nextSubscription);
                connection.Answered = (subscription, new PubSubSubscription(account, encoding));
                _subscribed.Enqueue(account);
                return Result(id, subscription);
            case "accountUnsubscribe":
                if (parameters.Count == 1 && parameters[0] is JsonValue number && number.TryGetValue<ulong>(out var ended) &&
                    connection.Subscriptions.TryRemove(ended, out var removed))
                {
                    _unsubscribed.Enqueue(removed.Account);
                    return Result(id, true);
                }

                return Error(id, -32602, "Invalid subscription id.");
            case null:
                return Error(id, -32600, "Invalid request");
            default:
                return Error(id, -32601, "Method not found");
        }
    }

    private async Task NotifyAsync(string account, Func<string, JsonObject> value)
    {
        foreach (var connection in _connections.Values)
        {
            foreach (var (subscription, watched) in connection.Subscriptions.Where(s => s.Value.Account == account))
            {
                await connection.SendAsync(Notification(subscription, value(watched.Encoding)));
            }
        }
    }

    private JsonObject Notification(ulong subscription, JsonObject value) => new()
    {
        ["jsonrpc"] = "2.0",
        ["method"] = "accountNotification",
        ["params"] = new JsonObject
        {
            ["result"] = new JsonObject { ["context"] = new JsonObject { ["slot"] = Slot }, ["value"] = value },
            ["subscription"] = subscription,
        },
    };

    /// <summary>The account as the chain holds it: SPL Token's 165-byte layout (mint, owner, amount u64 LE, …), in the encoding asked for.</summary>
    private static JsonObject AccountValue(TokenAccount account, string encoding)
    {
        var data = new byte[165];
        Decode32(account.Mint)?.CopyTo(data, 0);
        Decode32(account.Owner)?.CopyTo(data, 32);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(64, 8), (ulong)account.Amount);
        data[108] = 1; // state: initialized
        JsonNode encoded = encoding switch
        {
            "base64" => new JsonArray(Convert.ToBase64String(data), "base64"),
            "jsonParsed" => new JsonObject
            {
                ["program"] = "spl-token",
                ["parsed"] = new JsonObject
                {
                    ["info"] = new JsonObject
                    {
                        ["isNative"] = false, ["mint"] = account.Mint, ["owner"] = account.Owner, ["state"] = "initialized",
                        ["tokenAmount"] = new JsonObject
                        {
                            ["amount"] = account.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture), ["decimals"] = account.Decimals,
                        },
                    },
                    ["type"] = "account",
                },
                ["space"] = 165,
            },
            _ => new JsonArray(SimpleBase.Base58.Bitcoin.Encode(data), "base58"),
        };
        return new JsonObject
        {
            ["data"] = encoded, ["executable"] = false, ["lamports"] = TokenAccountRent, ["owner"] = TokenProgram, ["rentEpoch"] = 18446744073709551615UL, ["space"] = 165,
        };
    }

    private static byte[]? Decode32(string text)
    {
        try
        {
            var bytes = SimpleBase.Base58.Bitcoin.Decode(text);
            return bytes.Length == 32 ? bytes : null;
        }
        catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or InvalidOperationException)
        {
            return null;
        }
    }

    private sealed record PubSubSubscription(string Account, string Encoding);

    private sealed class PubSubConnection(int number, HttpContext context, WebSocket socket)
    {
        private readonly SemaphoreSlim _send = new(1, 1);

        public int Number => number;

        public HttpContext Context => context;

        public ConcurrentDictionary<ulong, PubSubSubscription> Subscriptions { get; } = new();

        /// <summary>The subscription the answer being sent creates (live once the answer is out).</summary>
        public (ulong Id, PubSubSubscription Subscription)? Answered { get; set; }

        public async Task SendAsync(JsonObject message)
        {
            await _send.WaitAsync();
            try
            {
                if (socket.State == WebSocketState.Open)
                {
                    await socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
            {
                // The connection is going: a notification to it is lost, as on a real node.
            }
            finally
            {
                _send.Release();
            }
        }
    }
}
