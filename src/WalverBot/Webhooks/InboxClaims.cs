namespace WalverBot.Webhooks;

/// <summary>
/// The grant worker's claims (<see cref="WebhookInbox.DueAsync(int, CancellationToken)"/>) kept alive: once half the
/// lease has passed since the last renewal, one UPDATE renews the claims of every event the worker holds, running or
/// next in line. Every claim the worker holds was made or renewed after the last renewal, so with the worker's loop
/// turning more often than half a lease, no claim of a live instance runs out. The events that come back as no longer
/// this instance's were taken over by another instance while this one stalled for a whole lease: the worker must
/// not start them.
/// </summary>
public sealed class InboxClaims(WebhookInbox inbox, TimeProvider time)
{
    private DateTimeOffset _renewedAt = time.GetUtcNow();

    /// <summary>Renews the claims on <paramref name="claimed"/> when due; returns those no longer this instance's (none when no renewal was due).</summary>
    public async Task<IReadOnlySet<long>> RenewAsync(IReadOnlyCollection<long> claimed, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now - _renewedAt < WebhookInbox.ClaimLease / 2)
        {
            return new HashSet<long>();
        }

        var held = claimed.Count == 0 ? new HashSet<long>() : await inbox.RenewClaimsAsync(claimed, cancellationToken);
        _renewedAt = now;
        return claimed.Where(id => !held.Contains(id)).ToHashSet();
    }
}
