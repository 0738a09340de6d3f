using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace WalverBot.Discord.Tests.Fakes;

/// <summary>A bare ClientWebSocket speaking gateway JSON, to test the fake gateway without our client.</summary>
internal sealed class GatewayTestClient : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly ClientWebSocket _socket = new();

    /// <summary>Frames the last received message arrived in.</summary>
    public int LastFrameCount { get; private set; }

    public static async Task<GatewayTestClient> ConnectAsync(string url, string query = "?v=10&encoding=json")
    {
        var client = new GatewayTestClient();
        using var cts = new CancellationTokenSource(Timeout);
        await client._socket.ConnectAsync(new Uri(url.TrimEnd('/') + "/" + query), cts.Token);
        return client;
    }

    public async Task SendAsync(JsonObject payload)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(payload.ToJsonString()), WebSocketMessageType.Text, true, cts.Token);
    }

    /// <summary>Sends text as-is (it need not be valid JSON).</summary>
    public async Task SendAsync(string text)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cts.Token);
    }

    public async Task<JsonObject> ReceiveAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var buffer = new byte[1024];
        using var message = new MemoryStream();
        var frames = 0;
        WebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(buffer, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"Gateway closed: {(int?)result.CloseStatus} {result.CloseStatusDescription}");
            }

            frames++;
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        LastFrameCount = frames;
        return JsonNode.Parse(message.ToArray())!.AsObject();
    }

    /// <summary>Reads until the server's close frame, answers it as a polite client does, and returns its code.</summary>
    public async Task<int> ReceiveCloseAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var buffer = new byte[8192];
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await _socket.CloseOutputAsync(result.CloseStatus!.Value, null, cts.Token);
                return (int)result.CloseStatus!.Value;
            }
        }
    }

    public static JsonObject Identify(string token, long intents = (1 << 0) | (1 << 1)) => new()
    {
        ["op"] = 2,
        ["d"] = new JsonObject
        {
            ["token"] = token,
            ["intents"] = intents,
            ["properties"] = new JsonObject { ["os"] = "linux", ["browser"] = "WalverBot", ["device"] = "WalverBot" },
            ["shard"] = new JsonArray(0, 1),
        },
    };

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        await Task.CompletedTask;
    }
}
