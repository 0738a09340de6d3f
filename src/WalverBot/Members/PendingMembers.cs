using WalverBot.Grants;
using WalverBot.Webhooks;

namespace WalverBot.Members;

/// <summary>
/// Closes the gap between a member lookup and the commit of <c>waiting_member</c>: a member who joins in between
/// is not in the lookup's answer, and their GUILD_MEMBER_ADD finds no waiting grant yet to wake. Joins are
/// numbered here as they arrive; after committing a wait, the worker asks whether a matching member joined since
/// its lookup started, and wakes the grant itself.
/// </summary>
public sealed class PendingMembers(WebhookInbox inbox, GrantSignal signal)
{
    // Far more joins than can arrive during one lookup; should a flood push one out, the periodic re-check still finds the member.
    private const int Capacity = 4096;

    private readonly Lock _lock = new();
    private readonly Queue<Join> _joins = new();
    private long _sequence;

    /// <summary>A point in the join history: take it before a lookup.</summary>
    public long Mark()
    {
        lock (_lock)
        {
            return _sequence;
        }
    }

    /// <summary>Records a join by the member query keys it answers (user id and username).</summary>
    public void Joined(ulong guildId, IReadOnlyCollection<string> keys)
    {
        lock (_lock)
        {
            _joins.Enqueue(new Join(++_sequence, guildId, keys));
            while (_joins.Count > Capacity)
            {
                _joins.Dequeue();
            }
        }
    }

    /// <summary>Whether a member answering <paramref name="key"/> joined the guild after <paramref name="mark"/>.</summary>
    public bool JoinedSince(long mark, ulong guildId, string key)
    {
        lock (_lock)
        {
            return _joins.Any(j => j.Sequence > mark && j.GuildId == guildId && j.Keys.Contains(key));
        }
    }

    /// <summary>
    /// Call after committing a wait for <paramref name="inboxEvent"/>'s member: when that member joined since
    /// <paramref name="mark"/>, the grant becomes due again now; returns whether it did.
    /// </summary>
    public async Task<bool> WakeIfJoinedSinceAsync(long mark, InboxEvent inboxEvent, CancellationToken cancellationToken)
    {
        if (inboxEvent.MemberQuery is not { } key || !JoinedSince(mark, inboxEvent.GuildId, key))
        {
            return false;
        }

        var woken = await inbox.WakeWaitingAsync(inboxEvent.GuildId, [key], cancellationToken);
        if (woken > 0)
        {
            signal.Notify();
        }

        return woken > 0;
    }

    private sealed record Join(long Sequence, ulong GuildId, IReadOnlyCollection<string> Keys);
}
