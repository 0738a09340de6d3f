using WalverBot.Webhooks;

namespace WalverBot.Grants;

/// <summary>
/// Drains the webhook inbox: at start it picks up every unfinished event (nothing acknowledged is lost in a crash),
/// then wakes on each new event, on each finished one, on the next retry time, or on a slow poll.
/// </summary>
/// <remarks>
/// Events run as they are claimed, without waiting for a whole batch: a guild whose role bucket is empty holds only its
/// own events (at most <see cref="PerGuildInFlight"/>), and another guild's events are claimed and run meanwhile. Within
/// a guild several events run at once, so their REST calls queue on the guild's bucket (which the rate limiter keeps
/// full) and their decisions share a group commit; but two events of the same member or the same wallet never run
/// together: they keep their order, so wallet links and grants of one member never race.
/// </remarks>
public sealed class GrantWorker(
    WebhookInbox inbox,
    GrantLedger ledger,
    GrantSignal signal,
    IServiceProvider services,
    TimeProvider time,
    ILogger<GrantWorker> logger,
    Operations.BotMetrics metrics,
    WalverBot.Discord.Gateway.IGatewayStatus gateway) : BackgroundService
{
    /// <summary>Events running at once over all guilds.</summary>
    internal const int MaxInFlight = 256;

    /// <summary>Events of one guild running at once: enough to keep its role bucket busy and share commits.</summary>
    internal const int PerGuildInFlight = 32;

    /// <summary>Claimed events kept in memory, running or next in line: a claim (a write) is made for many events, not each.</summary>
    internal const int MaxClaimed = 1024;

    /// <summary>Claimed events of one guild: a guild with a backlog leaves room in the claim for every other guild.</summary>
    internal const int PerGuildClaimed = 128;

    private const int ClaimAtLeast = 64;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ErrorPause = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ExpiryCheck = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    // Claimed events being processed here, with the keys they hold; the dispatch loop adds, each run removes itself.
    private readonly Dictionary<long, (ulong GuildId, string[] Keys)> _running = [];
    // Claimed events next in line, in claim order (longest due first).
    private readonly List<InboxEvent> _held = [];
    // Claimed events (held or running) per guild, and running ones per guild.
    private readonly Dictionary<ulong, int> _claimedPerGuild = [];
    private readonly Dictionary<ulong, int> _runningPerGuild = [];
    // "member|guild|key" and "wallet|guild|address" of running events: a second event with either waits its turn.
    private readonly HashSet<string> _busyKeys = [];
    // Events whose failure could not even be recorded: left due, but not retried before this time (no spinning).
    private readonly Dictionary<long, DateTimeOffset> _coolingDown = [];
    private readonly List<Task> _tasks = [];
    private DateTimeOffset _lastExpiryCheck = DateTimeOffset.MinValue;
    private readonly InboxClaims _claims = new(inbox, time);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (gateway.Stopped is { } stop)
                {
                    // The gateway stopped for good (a reset token, a disabled intent): Discord would refuse the REST
                    // calls too, and a refusal is final. Events wait in the inbox for the restart after the fix.
                    logger.LogWarning("Grant worker paused until the bot is restarted: the Discord gateway {Stop}", stop.ToString());
                    await Task.Delay(Timeout.Infinite, stoppingToken);
                }

                if (time.GetUtcNow() - _lastExpiryCheck >= ExpiryCheck)
                {
                    _lastExpiryCheck = time.GetUtcNow();
                    await ExpireWaitingAsync(stoppingToken);
                }

                // Right before events start: an event whose claim another instance took over is never started here.
                await RenewClaimsAsync(stoppingToken);
                var started = StartHeld(stoppingToken);
                if (await ClaimAsync(stoppingToken) > 0)
                {
                    started += StartHeld(stoppingToken);
                }

                if (started > 0)
                {
                    continue;
                }

                // Woken by a new webhook, a finished event (its member, wallet or guild slot is free), or the next due time.
                await signal.WaitAsync(await IdleWaitAsync(stoppingToken), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // A database hiccup (locked, disk full) must not end the worker: the events stay in the inbox.
                logger.LogError(ex, "Grant worker failed a pass over the inbox; trying again in {Delay}", ErrorPause);
                try
                {
                    await Task.Delay(ErrorPause, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        Task[] inFlight;
        lock (_lock)
        {
            inFlight = [.. _tasks];
        }

        // Events in flight end on the stopping token; what they did not record stays due, and its claim is given back
        // so another instance of the shard (or this one restarted) takes it at once rather than after the lease.
        await Task.WhenAll(inFlight);
        await inbox.ReleaseClaimsAsync(logger);
    }

    /// <summary>
    /// Keeps this instance's claims (events running or next in line) from running out (<see cref="InboxClaims"/>), and
    /// drops the events next in line that another instance took over while this one stalled for a whole lease.
    /// </summary>
    private async Task RenewClaimsAsync(CancellationToken stoppingToken)
    {
        long[] claimed;
        lock (_lock)
        {
            claimed = [.. _running.Keys, .. _held.Select(e => e.Id)];
        }

        var lost = await _claims.RenewAsync(claimed, stoppingToken);
        if (lost.Count == 0)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var inboxEvent in _held.Where(e => lost.Contains(e.Id)).ToList())
            {
                _held.Remove(inboxEvent);
                Decrement(_claimedPerGuild, inboxEvent.GuildId);
            }
        }

        logger.LogWarning("{Count} claimed event(s) were taken over by another instance after their lease ran out; this instance leaves them to it", lost.Count);
    }

    /// <summary>Claims more due events when there is room for a good number of them (or nothing is in line); returns how many.</summary>
    private async Task<int> ClaimAsync(CancellationToken stoppingToken)
    {
        long[] skipIds;
        ulong[] fullGuilds;
        int room;
        lock (_lock)
        {
            var now = time.GetUtcNow();
            foreach (var id in _coolingDown.Where(c => c.Value <= now).Select(c => c.Key).ToList())
            {
                _coolingDown.Remove(id);
            }

            _tasks.RemoveAll(t => t.IsCompleted);
            room = MaxClaimed - _running.Count - _held.Count;
            if (room < ClaimAtLeast && _held.Count > 0)
            {
                return 0;
            }

            skipIds = [.. _running.Keys, .. _held.Select(e => e.Id), .. _coolingDown.Keys];
            fullGuilds = [.. _claimedPerGuild.Where(g => g.Value >= PerGuildClaimed).Select(g => g.Key)];
        }

        if (room <= 0)
        {
            return 0;
        }

        var due = await inbox.DueAsync(room, skipIds, fullGuilds, stoppingToken);
        lock (_lock)
        {
            foreach (var inboxEvent in due)
            {
                _held.Add(inboxEvent);
                _claimedPerGuild[inboxEvent.GuildId] = _claimedPerGuild.GetValueOrDefault(inboxEvent.GuildId) + 1;
            }
        }

        return due.Count;
    }

    /// <summary>Starts held events, in order, whose guild has a free slot and whose member and wallet are free; returns how many.</summary>
    private int StartHeld(CancellationToken stoppingToken)
    {
        lock (_lock)
        {
            var started = 0;
            // Keys of events left in line: a later event of the same member or wallet must not overtake them.
            var waiting = new HashSet<string>();
            for (var i = 0; i < _held.Count && _running.Count < MaxInFlight; i++)
            {
                var inboxEvent = _held[i];
                var keys = KeysOf(inboxEvent);
                if (_runningPerGuild.GetValueOrDefault(inboxEvent.GuildId) >= PerGuildInFlight
                    || keys.Any(k => _busyKeys.Contains(k) || waiting.Contains(k)))
                {
                    waiting.UnionWith(keys);
                    continue;
                }

                _held.RemoveAt(i--);
                _busyKeys.UnionWith(keys);
                _runningPerGuild[inboxEvent.GuildId] = _runningPerGuild.GetValueOrDefault(inboxEvent.GuildId) + 1;
                _running[inboxEvent.Id] = (inboxEvent.GuildId, keys);
                _tasks.Add(Task.Run(() => RunAsync(inboxEvent, keys, stoppingToken), CancellationToken.None));
                started++;
            }

            return started;
        }
    }

    private static string[] KeysOf(InboxEvent inboxEvent)
    {
        var wallet = $"wallet|{inboxEvent.GuildId}|{Verifications.KnownChains.NormalizeAddress(inboxEvent.WalletAddress)}";
        return inboxEvent.MemberQuery is { } member ? [$"member|{inboxEvent.GuildId}|{member}", wallet] : [wallet];
    }

    /// <summary>
    /// One event, in its own DI scope. One that fails beyond what its processor could record (the database refused the
    /// retry too) never stops the others: it stays due and cools down before it is tried again.
    /// </summary>
    private async Task RunAsync(InboxEvent inboxEvent, string[] keys, CancellationToken stoppingToken)
    {
        var started = time.GetTimestamp();
        try
        {
            await using var scope = services.CreateAsyncScope();
            var processor = scope.ServiceProvider.GetRequiredService<GrantProcessor>();
            await processor.ProcessAsync(inboxEvent, stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            lock (_lock)
            {
                _coolingDown[inboxEvent.Id] = time.GetUtcNow() + ErrorPause;
            }

            logger.LogError(ex, "Event {EventId} of verification {VerificationId} failed and the failure could not be recorded ({ErrorId}); it stays due",
                inboxEvent.Id, inboxEvent.VerificationId, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)));
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: whatever the event did not record stays due for the next start.
        }
        finally
        {
            lock (_lock)
            {
                _running.Remove(inboxEvent.Id);
                _busyKeys.ExceptWith(keys);
                Decrement(_runningPerGuild, inboxEvent.GuildId);
                Decrement(_claimedPerGuild, inboxEvent.GuildId);
            }

            metrics.Processed(time.GetElapsedTime(started));
            signal.Notify();
        }
    }

    private static void Decrement(Dictionary<ulong, int> counts, ulong guildId)
    {
        if (--counts[guildId] == 0)
        {
            counts.Remove(guildId);
        }
    }

    private async Task<TimeSpan> IdleWaitAsync(CancellationToken stoppingToken)
    {
        long[] skipIds;
        DateTimeOffset? coolEnd;
        lock (_lock)
        {
            if (_running.Count > 0)
            {
                // Each finished event wakes the loop; whatever else is due waits for a free slot, member or wallet.
                return IdlePoll;
            }

            skipIds = [.. _held.Select(e => e.Id), .. _coolingDown.Keys];
            coolEnd = _coolingDown.Count > 0 ? _coolingDown.Values.Min() : null;
        }

        var next = await inbox.NextDueAsync(skipIds, stoppingToken);
        if (coolEnd is { } end && (next is null || end < next))
        {
            next = end;
        }

        if (next is null)
        {
            return IdlePoll;
        }

        var wait = next.Value - time.GetUtcNow();
        return wait <= TimeSpan.Zero ? TimeSpan.Zero : wait < IdlePoll ? wait : IdlePoll;
    }

    private async Task ExpireWaitingAsync(CancellationToken stoppingToken)
    {
        foreach (var expired in await inbox.ExpiredWaitingAsync(stoppingToken))
        {
            await ledger.RecordOutcomeAsync(expired, EventStatus.Expired,
                Decision.Reject(Outcomes.PendingExpired, "the member did not join the server in time"), null, null, null, stoppingToken);
        }
    }
}
