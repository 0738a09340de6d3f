using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// Whether the Server Members intent works, tested the way the bot uses it: one gateway session that identifies
/// with GUILDS | GUILD_MEMBERS, then closes. Discord answers READY, or closes with 4014 when the intent is not
/// enabled in the developer portal (4004 for a bad token). It costs one of the day's session starts (1000).
/// REST cannot tell: the application's flags (GET /applications/@me) say whether the intent is enabled, not whether
/// the gateway accepts it for this bot, and the fake Discord the tests run against has no such route.
/// A short-lived handshake of its own (HELLO, IDENTIFY, READY or close), so the probe needs no hosted shard.
/// </summary>
public static class GatewayIntentProbe
{
    /// <summary>Whether the session reached READY, and what happened, in words for the operator.</summary>
    /// <param name="Works">True when Discord accepted the intents.</param>
    /// <param name="Detail">What Discord answered.</param>
    public sealed record Result(bool Works, string Detail);

    private const string InvalidSession = "the gateway answered Invalid Session to IDENTIFY";

    /// <summary>Opens one session on <paramref name="gatewayUrl"/> with GUILDS | GUILD_MEMBERS and reports how Discord answered.</summary>
    public static async Task<Result> RunAsync(string gatewayUrl, string token, DiscordGatewayOptions identity, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var result = await TryOnceAsync(gatewayUrl, token, identity, timeout, cancellationToken);
        if (result.Detail == InvalidSession)
        {
            // Discord refuses an IDENTIFY within 5 s of the previous one for the same bot (the running bot's own,
            // for instance) with op 9; one retry after that window tells a refusal from a real problem.
            await Task.Delay(IdentifyGate.BucketSpacing, cancellationToken);
            result = await TryOnceAsync(gatewayUrl, token, identity, timeout, cancellationToken);
        }

        return result;
    }

    private static async Task<Result> TryOnceAsync(string gatewayUrl, string token, DiscordGatewayOptions identity, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        var deadline = timer.Token;
        using var socket = new ClientWebSocket();
        var uri = new Uri($"{gatewayUrl.TrimEnd('/')}/?v=10&encoding=json");
        try
        {
            await socket.ConnectAsync(uri, deadline);
            var hello = await ReceiveAsync(socket, deadline);
            if (hello?["op"]?.GetValue<int>() != 10)
            {
                return new(false, CloseDetail(socket) ?? "the gateway did not send HELLO");
            }

            var identifyPayload = new JsonObject
            {
                ["op"] = 2,
                ["d"] = new JsonObject
                {
                    ["token"] = token,
                    ["intents"] = (int)identity.Intents,
                    ["properties"] = new JsonObject { ["os"] = identity.Os, ["browser"] = identity.Browser, ["device"] = identity.Device },
                },
            };
            await socket.SendAsync(Encoding.UTF8.GetBytes(identifyPayload.ToJsonString()), WebSocketMessageType.Text, true, deadline);

            while (true)
            {
                var message = await ReceiveAsync(socket, deadline);
                if (message is null)
                {
                    return new(false, CloseDetail(socket) ?? "the gateway closed the connection before READY");
                }

                if (message["op"]?.GetValue<int>() == 0 && message["t"]?.GetValue<string>() == "READY")
                {
                    await CloseQuietlyAsync(socket);
                    return new(true, "a test session identified with GUILD_MEMBERS and got READY");
                }

                if (message["op"]?.GetValue<int>() == 9)
                {
                    return new(false, InvalidSession);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(false, $"no READY within {timeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or JsonException)
        {
            return new(false, CloseDetail(socket) ?? $"could not talk to the gateway: {ex.Message}");
        }
    }

    // The same words the running bot logs for that close code, with the same advice for a fatal one.
    private static string? CloseDetail(ClientWebSocket socket) => socket.CloseStatus is not { } status
        ? null
        : GatewayCloseCodes.Classify((int)status) == CloseAction.Fatal
            ? $"Discord closed the session with {GatewayCloseCodes.Describe((int)status)}: {GatewayCloseCodes.Advice((int)status)}"
            : $"Discord closed the session with {GatewayCloseCodes.Describe((int)status)} {socket.CloseStatusDescription}".TrimEnd();

    private static async Task<JsonNode?> ReceiveAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return JsonNode.Parse(message.ToArray());
            }
        }
    }

    private static async Task CloseQuietlyAsync(ClientWebSocket socket)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "check done", timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
    }
}
