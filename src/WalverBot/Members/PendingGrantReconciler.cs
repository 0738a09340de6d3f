using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Options;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Grants;
using WalverBot.ScaleOut;
using WalverBot.Webhooks;

namespace WalverBot.Members;

/// <summary>
/// Finds members that pending grants wait for who are already in the server although no GUILD_MEMBER_ADD said so:
/// Discord replays missed events only on RESUME, so a member who joined while the bot was stopped, or between an
/// invalidated session (op 9 d:false) and the next IDENTIFY, is never announced. Runs for a guild when it arrives on a
/// new session (GUILD_CREATE) and for every guild on a slow timer, and wakes the grants whose member it finds; the
/// worker then decides as usual. Asks the gateway (op 8), not REST: up to 100 user ids per request, and one
/// username query per waiting name (at most 50 names per guild and pass), paced by the session's send limit.
/// </summary>
public sealed class PendingGrantReconciler(
    WebhookInbox inbox, IGuildMemberRequests gateway, GrantSignal signal, ILogger<PendingGrantReconciler> logger, ShardOwnership? shards = null)
{
    private const string IdPrefix = "id:";
    private const string NamePrefix = "name:";

    // Docs (events/gateway-events#request-guild-members): "Requesting user_ids will continue to be limited to returning 100 members".
    private const int UserIdsPerRequest = 100;

    // Usernames cannot be batched (one query each), so a pass checks at most this many per guild, going on where the
    // previous pass stopped: every waiting name is reached over a few passes without hogging the gateway's send budget.
    private const int MaxNamesPerPass = 50;

    private readonly ConcurrentDictionary<ulong, byte> _running = new();
    private readonly ConcurrentDictionary<ulong, string> _nameCursor = new();

    /// <summary>Reconciles every guild with waiting grants; returns how many grants became due.</summary>
    public async Task<int> ReconcileAllAsync(CancellationToken cancellationToken)
    {
        var woken = 0;
        foreach (var guildId in await inbox.GuildsWithWaitingAsync(cancellationToken))
        {
            woken += await ReconcileGuildAsync(guildId, cancellationToken);
        }

        return woken;
    }

    /// <summary>
    /// Reconciles one guild's waiting grants; returns how many became due. A pass already running for the guild is not
    /// doubled; a guild of another instance's shard is left to it (<see cref="ShardOwnership"/>).
    /// </summary>
    public async Task<int> ReconcileGuildAsync(ulong guildId, CancellationToken cancellationToken)
    {
        if (!(shards ?? ShardOwnership.All).Owns(guildId) || !_running.TryAdd(guildId, 0))
        {
            return 0;
        }

        var woken = 0;
        try
        {
            var waiting = await inbox.WaitingMemberQueriesAsync(guildId, cancellationToken);
            if (waiting.Count == 0)
            {
                return 0;
            }

            var keys = waiting.ToHashSet(StringComparer.Ordinal);
            var ids = waiting.Where(k => k.StartsWith(IdPrefix, StringComparison.Ordinal))
                .Select(k => ulong.TryParse(k.AsSpan(IdPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : 0)
                .Where(id => id != 0)
                .ToList();
            foreach (var batch in ids.Chunk(UserIdsPerRequest))
            {
                var answer = await gateway.RequestByIdsAsync(guildId, batch, cancellationToken);
                woken += await WakeAsync(guildId, answer.Members, keys, cancellationToken);
            }

            foreach (var name in NamesForThisPass(guildId, waiting))
            {
                var answer = await gateway.SearchByUsernameAsync(guildId, name, MemberResolver.GatewayQueryLimit, cancellationToken);
                _nameCursor[guildId] = name;
                woken += await WakeAsync(guildId, answer.Members.Where(m => MemberQuery.SameUsername(m.User.Username, name)), keys, cancellationToken);
            }
        }
        catch (GatewayUnavailableException ex)
        {
            // The next session (its GUILD_CREATE) or the next timer pass tries again.
            logger.LogInformation("Re-check of pending grants in guild {GuildId} stopped: {Reason}", guildId, ex.Message);
        }
        finally
        {
            _running.TryRemove(guildId, out _);
        }

        if (woken > 0)
        {
            logger.LogInformation("{Count} pending grant(s) in guild {GuildId} are due now: their members are in the server, though no join was announced", woken, guildId);
        }

        return woken;
    }

    private List<string> NamesForThisPass(ulong guildId, IReadOnlyList<string> waiting)
    {
        var names = waiting.Where(k => k.StartsWith(NamePrefix, StringComparison.Ordinal)).Select(k => k[NamePrefix.Length..])
            .Order(StringComparer.Ordinal).ToList();
        var cursor = _nameCursor.GetValueOrDefault(guildId);
        var after = cursor is null ? names.Count : names.FindIndex(n => string.CompareOrdinal(n, cursor) > 0);
        var start = after < 0 || after >= names.Count ? 0 : after;
        return [.. names.Skip(start).Concat(names.Take(start)).Take(MaxNamesPerPass)];
    }

    private async Task<int> WakeAsync(ulong guildId, IEnumerable<GuildMember> members, HashSet<string> waiting, CancellationToken cancellationToken)
    {
        // Bots never get roles (the worker would refuse them anyway); waking for them would only repeat that refusal.
        var present = members.Where(m => !m.User.Bot)
            .SelectMany(m => new[] { MemberQuery.KeyFor(m.User.Id), MemberQuery.KeyFor(m.User.Username) })
            .Where(waiting.Contains)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (present.Count == 0)
        {
            return 0;
        }

        var woken = await inbox.WakeWaitingAsync(guildId, present, cancellationToken);
        if (woken > 0)
        {
            signal.Notify();
        }

        return woken;
    }
}

/// <summary>Re-checks pending grants of a guild when it arrives on a new gateway session (after READY, or after an outage).</summary>
public sealed class ReconcileOnGuildAvailableHandler(PendingGrantReconciler reconciler) : IGatewayEventHandler<GuildCreateEvent>
{
    public Task HandleAsync(GuildCreateEvent gatewayEvent, CancellationToken cancellationToken) =>
        reconciler.ReconcileGuildAsync(gatewayEvent.Guild.Id, cancellationToken);
}

/// <summary>The slow timer: every <see cref="GrantOptions.PendingRecheck"/>, re-checks every guild's pending grants.</summary>
public sealed class PendingGrantRecheckWorker(
    PendingGrantReconciler reconciler, IOptions<GrantOptions> options, TimeProvider time, ILogger<PendingGrantRecheckWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Value.PendingRecheck, time, stoppingToken);
                await reconciler.ReconcileAllAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // A database hiccup must not end the timer; the next pass tries again.
                logger.LogError(ex, "Re-check of pending grants failed; trying again in {Interval}", options.Value.PendingRecheck);
            }
        }
    }
}
