namespace WalverBot.Discord.Rest;

/// <summary>
/// Bounds each HTTP attempt (rate-limit waits excluded) with a timer on the injected
/// <see cref="TimeProvider"/>, and turns the expiry into a <see cref="TimeoutException"/> that the
/// client reports as a transient failure. The caller's own cancellation passes through unchanged.
/// </summary>
internal sealed class DiscordTimeoutHandler(TimeProvider timeProvider, DiscordRestSettings settings) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(settings.RequestTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        HttpResponseMessage? response = null;
        try
        {
            response = await base.SendAsync(request, linked.Token).ConfigureAwait(false);
            // Read the body under the same deadline: a stalled body must time out too, and a buffered
            // body can be read twice (429 parsing here, error parsing in the client).
            await response.Content.LoadIntoBufferAsync(linked.Token).ConfigureAwait(false);
            return response;
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            response?.Dispose();
            throw new TimeoutException($"No answer within {settings.RequestTimeout.TotalSeconds:0.#} s.", ex);
        }
        catch
        {
            response?.Dispose();
            throw;
        }
    }
}
