using System.Text.Json;
using System.Text.Json.Nodes;

namespace WalverBot.SolanaRealTime;

/// <summary>A message from Solana's PubSub WebSocket, typed at the edge.</summary>
public abstract record PubSubMessage
{
    /// <summary>The answer to a request: <c>{"jsonrpc":"2.0","result":23784,"id":1}</c> (a subscription id, or <c>true</c> for an unsubscribe).</summary>
    public sealed record Answer(long Id, JsonElement Result) : PubSubMessage;

    /// <summary>A JSON-RPC error answering request <see cref="Id"/> (e.g. -32602 for an invalid pubkey).</summary>
    public sealed record Error(long? Id, int Code, string Message) : PubSubMessage;

    /// <summary>
    /// <c>accountNotification</c>: <c>params.subscription</c>, <c>params.result.context.slot</c> and the account's
    /// <c>value.lamports</c> (0 once the account is closed: a sale that emptied it and reclaimed its rent).
    /// </summary>
    public sealed record AccountNotification(ulong Subscription, ulong Slot, ulong? Lamports) : PubSubMessage;

    /// <summary>Anything else (other notifications, unreadable text): ignored.</summary>
    public sealed record Other : PubSubMessage;
}

/// <summary>
/// Requests and messages of Solana's PubSub API (https://solana.com/docs/rpc/websocket): JSON-RPC 2.0 over one WebSocket;
/// <c>accountSubscribe</c> answers a subscription id, notifications name that id, and a dropped connection ends every
/// subscription, so each one is sent again on the next connection.
/// </summary>
public static class SolanaPubSub
{
    /// <summary>
    /// accountSubscribe (https://solana.com/docs/rpc/websocket/accountsubscribe) at commitment <c>confirmed</c> (voted on by a
    /// supermajority: the re-check reads at the same commitment). base64: the data is not read, a notification only says
    /// "this account changed"; the amount comes from the re-check's own getTokenAccountsByOwner.
    /// </summary>
    public static string Subscribe(long id, string account) => new JsonObject
    {
        ["jsonrpc"] = "2.0",
        ["id"] = id,
        ["method"] = "accountSubscribe",
        ["params"] = new JsonArray(account, new JsonObject { ["encoding"] = "base64", ["commitment"] = "confirmed" }),
    }.ToJsonString();

    /// <summary>accountUnsubscribe with the subscription id accountSubscribe answered; the answer is <c>true</c>.</summary>
    public static string Unsubscribe(long id, ulong subscription) => new JsonObject
    {
        ["jsonrpc"] = "2.0",
        ["id"] = id,
        ["method"] = "accountUnsubscribe",
        ["params"] = new JsonArray(subscription),
    }.ToJsonString();

    public static PubSubMessage Parse(ReadOnlySpan<byte> utf8)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray());
        }
        catch (JsonException)
        {
            return new PubSubMessage.Other();
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new PubSubMessage.Other();
            }

            long? id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.Number && idElement.TryGetInt64(out var n) ? n : null;
            if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var value) ? value : 0;
                var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
                return new PubSubMessage.Error(id, code, message);
            }

            if (id is { } answered && root.TryGetProperty("result", out var result))
            {
                return new PubSubMessage.Answer(answered, result.Clone());
            }

            // {"jsonrpc":"2.0","method":"accountNotification","params":{"result":{"context":{"slot":5199307},"value":{…}},"subscription":23784}}
            if (root.TryGetProperty("method", out var method) && method.ValueEquals("accountNotification") &&
                root.TryGetProperty("params", out var parameters) && parameters.ValueKind == JsonValueKind.Object &&
                parameters.TryGetProperty("subscription", out var subscription) && TryGetUInt64(subscription, out var subscriptionId))
            {
                ulong slot = 0;
                ulong? lamports = null;
                if (parameters.TryGetProperty("result", out var notification) && notification.ValueKind == JsonValueKind.Object)
                {
                    if (notification.TryGetProperty("context", out var context) && context.ValueKind == JsonValueKind.Object &&
                        context.TryGetProperty("slot", out var slotElement) && TryGetUInt64(slotElement, out var s))
                    {
                        slot = s;
                    }

                    if (notification.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Object &&
                        value.TryGetProperty("lamports", out var lamportsElement) && TryGetUInt64(lamportsElement, out var l))
                    {
                        lamports = l;
                    }
                }

                return new PubSubMessage.AccountNotification(subscriptionId, slot, lamports);
            }

            return new PubSubMessage.Other();
        }
    }

    /// <summary>A whole number that fits a u64 (JsonElement.TryGetUInt64 throws on anything but a number).</summary>
    public static bool TryGetUInt64(JsonElement element, out ulong value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetUInt64(out value);
    }
}
