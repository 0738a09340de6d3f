using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Options;
using WalverBot.Operations;

namespace WalverBot.SolanaRealTime;

/// <summary>
/// <c>check</c>: whether Solana real time is on and its endpoint answers. It opens the WebSocket, subscribes to one account
/// (the SPL Token program's, which always exists), expects a subscription id, unsubscribes and closes. A failure is a
/// warning, not a problem: webhooks and the scheduled re-check work without it.
/// </summary>
public static class SolanaSubscriptionCheck
{
    private const string Area = "chain solana real time";
    private const string ProbeAccount = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";

    public static async Task CheckAsync(IServiceProvider services, CheckReport report, CancellationToken cancellationToken)
    {
        var options = services.GetRequiredService<IOptions<SolanaSubscriptionOptions>>().Value;
        if (options.WsUrl is not { } url)
        {
            return;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(url, timeout.Token);
            var subscription = await AskAsync(socket, SolanaPubSub.Subscribe(1, ProbeAccount), 1, timeout.Token);
            if (!SolanaPubSub.TryGetUInt64(subscription.Result, out var id))
            {
                report.Warn(Area, $"{options.SafeName} answered accountSubscribe without a subscription id; roles follow the scheduled re-check only");
                return;
            }

            await AskAsync(socket, SolanaPubSub.Unsubscribe(2, id), 2, timeout.Token);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "check done", timeout.Token);
            report.Ok(Area, $"{options.SafeName} answers accountSubscribe: the running bot watches linked wallets' token accounts (walverbot_chain_subscription_up shows whether it is connected)");
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or InvalidDataException)
        {
            var reason = ex is OperationCanceledException ? "no answer within 15 s" : SolanaSubscriber.Redact(ex.Message, url);
            report.Warn(Area, $"{options.SafeName} does not answer accountSubscribe ({reason}); roles follow the scheduled re-check only until it does");
        }
    }

    private static async Task<PubSubMessage.Answer> AskAsync(ClientWebSocket socket, string request, long id, CancellationToken cancellationToken)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(request), WebSocketMessageType.Text, true, cancellationToken);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new WebSocketException("the server closed the connection");
                }

                message.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage && message.Length < buffer.Length * 16);

            switch (SolanaPubSub.Parse(message.ToArray()))
            {
                case PubSubMessage.Answer answer when answer.Id == id:
                    return answer;
                case PubSubMessage.Error error when error.Id == id:
                    throw new InvalidDataException($"error {error.Code} {error.Message}");
            }
        }
    }
}
