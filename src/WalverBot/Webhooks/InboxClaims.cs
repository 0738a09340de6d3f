namespace WalverBot.Webhooks;

/// <summary>
/// The claims of one batch the grant worker took (<see cref="WebhookInbox.DueAsync"/>): before each event it asks
/// whether the event is still this instance's, and once half the lease has passed renews the claims of the batch's
/// events (those running in other guilds included), in one UPDATE. An event whose lease ran out and that another
/// instance took over (this one stalled for a whole lease) is skipped, so a slow batch never starts an event twice.
/// </summary>
public sealed class InboxClaims(WebhookInbox inbox, TimeProvider time, IEnumerable<long> eventIds)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly long[] _batch = [.. eventIds];
    private readonly HashSet<long> _notStarted = [.. eventIds];
    private DateTimeOffset _renewedAt = time.GetUtcNow();

    /// <summary>True when the event is still claimed by this instance; marks it started.</summary>
    public async Task<bool> StartAsync(long eventId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (time.GetUtcNow() - _renewedAt >= WebhookInbox.ClaimLease / 2)
            {
                var held = await inbox.RenewClaimsAsync(_batch, cancellationToken);
                _notStarted.IntersectWith(held);
                _renewedAt = time.GetUtcNow();
            }

            return _notStarted.Remove(eventId);
        }
        finally
        {
            _gate.Release();
        }
    }
}
