using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using WalverBot.Discord;
using WalverBot.Holdings;
using WalverBot.Verifications;

namespace WalverBot.SolanaRealTime;

/// <summary>
/// Solana real time: one WebSocket to <c>Chains:solana:WsUrl</c>, an <c>accountSubscribe</c> per watched account
/// (<see cref="SolanaWatchlist"/>), and on each <c>accountNotification</c> a re-check of the wallets it concerns through
/// <see cref="RecheckEngine.RecheckWalletsAsync"/> (same strikes, breaker, decisions and notices as a scheduled pass).
/// The watch list is read again every <see cref="SolanaSubscriptionTuning.ResyncInterval"/>: new accounts are subscribed, those
/// of unlinked wallets or changed verifications unsubscribed. A dropped connection ends every subscription
/// (https://solana.com/docs/rpc/websocket), so after a reconnect with exponential backoff all are sent again; while it is
/// down roles follow the scheduled re-check alone, said once per outage in the log and by
/// <c>walverbot_chain_subscription_up{chain="solana"} 0</c>.
/// Limits: one connection per bot, and reconnects at least half a second apart (growing to minutes), stay under Solana's public endpoints'
/// per-IP connection limits (https://solana.com/docs/references/clusters: 40 concurrent, 40 new per 10 s). Their request
/// limits (100 per 10 s, 40 per method) may refuse part of a large first burst of accountSubscribe; a refused account is
/// left to the scheduled re-check and asked for again at the next resync (a minute on). Many wallets call for a provider's endpoint.
/// </summary>
public sealed class SolanaSubscriber(
    IOptions<SolanaSubscriptionOptions> options,
    IOptions<SolanaSubscriptionTuning> tuning,
    SolanaWatchlist watchlist,
    SolanaSubscriptionStatus status,
    VerificationStore verifications,
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger<SolanaSubscriber> logger)
{
    // Notifications are small (a token account is 165 bytes of data); anything this large is not one of ours.
    private const int MaxMessageBytes = 1 << 20;

    private readonly Channel<(string Account, IReadOnlyList<WatchedWallet> Wallets)> _rechecks =
        Channel.CreateUnbounded<(string, IReadOnlyList<WatchedWallet>)>(new UnboundedChannelOptions { SingleReader = true });

    // Accounts with a re-check queued and not started: a busy account (a trader's, changing every slot) queues one re-check, not one per slot.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _queued = new(StringComparer.Ordinal);
    private bool _outageReported;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (options.Value.WsUrl is not { } url)
        {
            return;
        }

        var backoff = new ExponentialBackoff(tuning.Value.ReconnectBaseDelay, tuning.Value.ReconnectMaxDelay, 0.5, 1.0);
        var rechecks = Task.Run(() => RecheckLoopAsync(cancellationToken), CancellationToken.None);
        var attempt = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                string reason;
                try
                {
                    using var socket = new ClientWebSocket();
                    // Solana providers drop idle sockets and a half-open TCP connection sends nothing: ping, and give up on a missing pong.
                    socket.Options.KeepAliveInterval = tuning.Value.KeepAlive;
                    socket.Options.KeepAliveTimeout = tuning.Value.KeepAlive;
                    using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                    {
                        connect.CancelAfter(tuning.Value.ConnectTimeout);
                        await socket.ConnectAsync(url, connect.Token);
                    }

                    reason = await SessionAsync(socket, () => attempt = 0, cancellationToken);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    reason = Redact(ex is OperationCanceledException ? $"no connection within {tuning.Value.ConnectTimeout}" : ex.Message, url);
                }

                status.SetUp(false);
                if (!_outageReported)
                {
                    _outageReported = true;
                    logger.LogWarning("Solana real-time subscription to {Endpoint} is down ({Reason}); roles follow the scheduled re-check (Rechecks:Interval) until it is back",
                        options.Value.SafeName, reason);
                }

                var delay = backoff.Delay(attempt++, Random.Shared.NextDouble());
                logger.LogDebug("Solana subscription: reconnecting to {Endpoint} in {Delay} (attempt {Attempt}): {Reason}", options.Value.SafeName, delay, attempt, reason);
                await Task.Delay(delay, time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            status.SetUp(false);
            _rechecks.Writer.TryComplete();
            await rechecks.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>One connection: subscribe to the watch list, then follow notifications and resyncs until the socket ends; returns why.</summary>
    private async Task<string> SessionAsync(ClientWebSocket socket, Action connected, CancellationToken cancellationToken)
    {
        var url = options.Value.WsUrl!;
        var subscriptions = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var accountOf = new Dictionary<ulong, string>();
        var pending = new Dictionary<long, (bool Subscribe, string Account)>();
        long nextId = 0;
        var watch = await watchlist.ReadAsync(cancellationToken);
        var initial = watch.Count;
        var answered = 0;
        var refusals = 0;
        var up = false;

        async Task SubscribeAsync(string account)
        {
            var id = ++nextId;
            pending[id] = (true, account);
            await SendAsync(socket, SolanaPubSub.Subscribe(id, account), cancellationToken);
        }

        async Task UnsubscribeAsync(string account)
        {
            if (subscriptions.Remove(account, out var subscription))
            {
                accountOf.Remove(subscription);
                var id = ++nextId;
                pending[id] = (false, account);
                await SendAsync(socket, SolanaPubSub.Unsubscribe(id, subscription), cancellationToken);
            }
        }

        void MarkUpWhenAllAnswered()
        {
            if (!up && answered >= initial)
            {
                up = true;
                connected();
                status.SessionStarted();
                status.SetUp(true);
                status.SetAccounts(subscriptions.Count);
                _outageReported = false;
                logger.LogInformation("Solana real-time subscription to {Endpoint} is up: {Accounts} account(s) watched for {Wallets} linked wallet(s)",
                    options.Value.SafeName, subscriptions.Count, watch.Values.SelectMany(w => w).Distinct().Count());
            }
        }

        // Reading starts before the subscribes go out: with thousands of accounts the answers arrive while we still send,
        // and a server blocked on a full send buffer would stop reading ours.
        var messages = Channel.CreateUnbounded<PubSubMessage>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var receive = ReceiveAsync(socket, messages.Writer, cancellationToken);
        foreach (var account in watch.Keys)
        {
            await SubscribeAsync(account);
        }

        MarkUpWhenAllAnswered();
        var nextResync = time.GetUtcNow() + tuning.Value.ResyncInterval;
        while (true)
        {
            var wait = nextResync - time.GetUtcNow();
            bool more;
            using (var timer = new CancellationTokenSource(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token))
            {
                try
                {
                    more = await messages.Reader.WaitToReadAsync(linked.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    more = true; // the resync is due
                }
            }

            if (!more)
            {
                return Redact(await receive, url);
            }

            while (messages.Reader.TryRead(out var message))
            {
                switch (message)
                {
                    case PubSubMessage.Answer answer when pending.Remove(answer.Id, out var request):
                        if (request.Subscribe)
                        {
                            if (SolanaPubSub.TryGetUInt64(answer.Result, out var subscription))
                            {
                                subscriptions[request.Account] = subscription;
                                accountOf[subscription] = request.Account;
                                if (!watch.ContainsKey(request.Account))
                                {
                                    await UnsubscribeAsync(request.Account); // unlinked while the subscribe was on its way
                                }
                            }

                            answered++;
                            MarkUpWhenAllAnswered();
                        }

                        break;
                    case PubSubMessage.Error error when error.Id is { } id && pending.Remove(id, out var refused):
                        // e.g. -32602 Invalid pubkey, or a provider's cap on subscriptions: that account follows the scheduled re-check.
                        // One warning per connection (a cap refuses thousands at once), the rest at Debug.
                        logger.Log(refusals++ == 0 ? LogLevel.Warning : LogLevel.Debug,
                            "Solana: {Method} for account {Account} was refused ({Code} {Message}); its wallets follow the scheduled re-check (further refusals on this connection are logged at Debug)",
                            refused.Subscribe ? "accountSubscribe" : "accountUnsubscribe", refused.Account, error.Code, error.Message);
                        if (refused.Subscribe)
                        {
                            answered++;
                            MarkUpWhenAllAnswered();
                        }

                        break;
                    case PubSubMessage.AccountNotification notification:
                        if (accountOf.TryGetValue(notification.Subscription, out var changed) && watch.TryGetValue(changed, out var wallets))
                        {
                            status.Notification(matched: true);
                            logger.LogDebug("Solana: account {Account} changed at slot {Slot}; re-checking {Count} wallet(s)", changed, notification.Slot, wallets.Count);
                            if (notification.Lamports == 0)
                            {
                                // Closed (sold and rent reclaimed): its owner may open another one; ask at the next resync.
                                foreach (var wallet in wallets)
                                {
                                    watchlist.Forget(wallet.Wallet);
                                }
                            }

                            if (_queued.TryAdd(changed, 0))
                            {
                                status.RecheckQueued();
                                _rechecks.Writer.TryWrite((changed, wallets));
                            }
                        }
                        else
                        {
                            status.Notification(matched: false);
                            logger.LogDebug("Solana: a notification for subscription {Subscription}, which watches no linked wallet, is ignored", notification.Subscription);
                        }

                        break;
                }
            }

            if (time.GetUtcNow() >= nextResync)
            {
                var fresh = await watchlist.ReadAsync(cancellationToken);
                foreach (var gone in subscriptions.Keys.Where(a => !fresh.ContainsKey(a)).ToList())
                {
                    await UnsubscribeAsync(gone);
                }

                var waiting = pending.Values.Where(p => p.Subscribe).Select(p => p.Account).ToHashSet(StringComparer.Ordinal);
                foreach (var added in fresh.Keys.Where(a => !subscriptions.ContainsKey(a) && !waiting.Contains(a)))
                {
                    await SubscribeAsync(added);
                }

                watch = fresh;
                status.SetAccounts(subscriptions.Count);
                nextResync = time.GetUtcNow() + tuning.Value.ResyncInterval;
            }
        }
    }

    /// <summary>Reads messages until the socket ends; completes the channel and returns why it ended.</summary>
    private static async Task<string> ReceiveAsync(ClientWebSocket socket, ChannelWriter<PubSubMessage> messages, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return $"the server closed the connection ({(int?)result.CloseStatus} {result.CloseStatusDescription})".Replace(" )", ")", StringComparison.Ordinal);
                }

                message.Write(buffer, 0, result.Count);
                if (message.Length > MaxMessageBytes)
                {
                    return $"a message over {MaxMessageBytes} bytes";
                }

                if (result.EndOfMessage)
                {
                    messages.TryWrite(SolanaPubSub.Parse(message.GetBuffer().AsSpan(0, (int)message.Length)));
                    message.SetLength(0);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return ex.Message;
        }
        finally
        {
            messages.TryComplete();
        }
    }

    private static Task SendAsync(ClientWebSocket socket, string text, CancellationToken cancellationToken) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    private async Task RecheckLoopAsync(CancellationToken cancellationToken)
    {
        await foreach (var (account, wallets) in _rechecks.Reader.ReadAllAsync(CancellationToken.None))
        {
            // Taken off before the read: a change during this re-check queues the next one.
            _queued.TryRemove(account, out _);
            foreach (var group in wallets.GroupBy(w => w.VerificationId))
            {
                try
                {
                    var verification = await verifications.FindAsync(group.Key, cancellationToken);
                    if (verification is null || !verification.Enabled)
                    {
                        continue;
                    }

                    // A scope per re-check: the REST client is a typed HttpClient, meant to be short-lived.
                    await using var scope = scopes.CreateAsyncScope();
                    await scope.ServiceProvider.GetRequiredService<RecheckEngine>()
                        .RecheckWalletsAsync(verification, [.. group.Select(w => w.Wallet)], atBlock: null, cancellationToken);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    // Discord or the RPC down: the wallet stays due at its scheduled point, which re-checks it anyway.
                    logger.LogWarning("Solana real-time re-check of verification {VerificationId} failed: {Error}; the scheduled re-check covers it",
                        group.Key, ex.Message);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            status.RecheckRun();
        }
    }

    /// <summary>Error texts may quote the URL, whose path or query often holds the provider's API key.</summary>
    internal static string Redact(string message, Uri url)
    {
        var safe = Chains.RpcEndpointNames.Describe(url);
        foreach (var secret in new[] { url.OriginalString, url.AbsoluteUri, url.PathAndQuery.Length > 1 ? url.PathAndQuery : null, url.Query.Length > 1 ? url.Query : null, url.UserInfo.Length > 0 ? url.UserInfo : null })
        {
            if (!string.IsNullOrEmpty(secret))
            {
                message = message.Replace(secret, secret == url.OriginalString || secret == url.AbsoluteUri ? safe : "…", StringComparison.OrdinalIgnoreCase);
            }
        }

        return message;
    }
}

/// <summary>Runs <see cref="SolanaSubscriber"/>; thin on purpose. /readyz does not look at it: webhooks never wait for a chain.</summary>
public sealed class SolanaSubscriberWorker(
    SolanaSubscriber subscriber, ScaleOut.IJobLeader? leader = null, TimeProvider? time = null, ILogger<SolanaSubscriberWorker>? logger = null) : BackgroundService
{
    /// <summary>
    /// On one instance at a time (<see cref="ScaleOut.OnceOnlyJobs.SolanaSubscriptions"/>): every instance would
    /// otherwise subscribe to the same accounts and run each change's re-check once per instance.
    /// </summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        await ScaleOut.OnceOnlyJobRunner.RunOnceOnlyAsync(leader ?? new ScaleOut.ProcessJobLeader(), ScaleOut.OnceOnlyJobs.SolanaSubscriptions,
            subscriber.RunAsync, time ?? TimeProvider.System, (ILogger?)logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, stoppingToken);
    }
}
