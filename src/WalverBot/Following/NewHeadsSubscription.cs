using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace WalverBot.Following;

/// <summary>
/// Learns new heads at once over <c>Chains:{chain}:WsUrl</c>: <c>eth_subscribe</c> <c>["newHeads"]</c> (Ethereum JSON-RPC
/// pub/sub; notifications are <c>eth_subscription</c> messages whose <c>params.result.number</c> is the new head). Only the
/// head number is used: logs are still read with eth_getLogs over confirmed ranges, so reorg handling stays one path.
/// Reconnects with doubling backoff; while it is down the follower polls eth_blockNumber.
/// </summary>
public sealed class NewHeadsSubscription(FollowerChain settings, FollowerState state, FollowerTuning tuning, TimeProvider time, ILogger logger)
{
    private long _latest = -1;
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Waits up to <paramref name="timeout"/> for a head above <paramref name="than"/>; null when none came.</summary>
    public async Task<ulong?> WaitForNewerAsync(ulong than, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            var signal = Volatile.Read(ref _signal).Task;
            var latest = Interlocked.Read(ref _latest);
            if (latest >= 0 && (ulong)latest > than)
            {
                return (ulong)latest;
            }

            var left = deadline - time.GetUtcNow();
            if (left <= TimeSpan.Zero || !state.Subscribed)
            {
                return null;
            }

            try
            {
                await signal.WaitAsync(left, time, cancellationToken);
            }
            catch (TimeoutException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// The follower's poll wait while the subscription is down: up to <paramref name="timeout"/>, but over as soon as the
    /// subscription is live (again), so the follower goes back to pushed heads at once instead of after a whole poll interval.
    /// </summary>
    public async Task WaitWhileDownAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The signal is read before the state: a subscription that comes up in between completes this very signal.
        var signal = Volatile.Read(ref _signal).Task;
        if (state.Subscribed)
        {
            return;
        }

        try
        {
            await signal.WaitAsync(timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(() => failures = 0, cancellationToken);
                throw new WebSocketException("the server closed the subscription");
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                var wasUp = state.Subscribed;
                state.SetSubscribed(false);
                Signal();
                failures++;
                if (wasUp || failures == 1)
                {
                    // The exception's message is left out: it may name the URL, which carries the provider's key.
                    logger.LogWarning("Chain {Chain}: the newHeads subscription at {Endpoint} is down ({Error}); polling eth_blockNumber until it is back",
                        settings.Chain, settings.SafeWsName, ex.GetType().Name);
                }

                var delay = TimeSpan.FromTicks(Math.Min(tuning.MaxRetryDelay.Ticks, tuning.RetryBaseDelay.Ticks * (1L << Math.Min(failures - 1, 20))));
                try
                {
                    await Task.Delay(delay, time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ListenAsync(Action connected, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(settings.WsUrl!, cancellationToken);
        var subscribe = """{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}"""u8.ToArray();
        await socket.SendAsync(subscribe, WebSocketMessageType.Text, true, cancellationToken);
        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            buffer.Clear();
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.GetMemory(4096), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                buffer.Advance(result.Count);
                if (buffer.WrittenCount > 1 << 20)
                {
                    throw new WebSocketException("a message over 1 MiB");
                }
            }
            while (!result.EndOfMessage);

            using var message = JsonDocument.Parse(buffer.WrittenMemory);
            var root = message.RootElement;
            if (root.TryGetProperty("id", out _))
            {
                if (root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
                {
                    throw new WebSocketException("eth_subscribe was refused: " + error.GetRawText());
                }

                state.SetSubscribed(true);
                Signal(); // ends a poll wait begun while the subscription was down
                connected();
                logger.LogInformation("Chain {Chain}: newHeads subscription at {Endpoint} is live", settings.Chain, settings.SafeWsName);
                continue;
            }

            if (root.TryGetProperty("params", out var parameters) && parameters.TryGetProperty("result", out var head) &&
                head.TryGetProperty("number", out var number) && number.GetString() is { } text && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) &&
                ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var block))
            {
                Interlocked.Exchange(ref _latest, (long)block);

                state.HeadSeen(block);
                Signal();
            }
        }
    }

    private void Signal() => Interlocked.Exchange(ref _signal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
