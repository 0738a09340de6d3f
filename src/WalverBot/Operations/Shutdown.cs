using Dapper;
using WalverBot.Storage;
using WalverBot.Webhooks;

namespace WalverBot.Operations;

/// <summary>Set when the host begins to stop; from then on new webhooks are refused so Walver retries elsewhere in time.</summary>
public sealed class ShutdownState
{
    private volatile bool _stopping;

    public ShutdownState(IHostApplicationLifetime lifetime) => lifetime.ApplicationStopping.Register(() => _stopping = true);

    public bool IsStopping => _stopping;
}

/// <summary>
/// Once the host is stopping, <c>POST /webhooks/walver</c> answers 503 with Retry-After: nothing is accepted that
/// the worker could not start on, and Walver retries (three times, 30 s apart). Requests already inside finish.
/// </summary>
public sealed class ShutdownGate(RequestDelegate next, ShutdownState state)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (state.IsStopping && HttpMethods.IsPost(context.Request.Method) &&
            context.Request.Path.StartsWithSegments(WebhookEndpoints.Route, StringComparison.OrdinalIgnoreCase))
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "30";
            context.Response.Headers.Connection = "close";
            await context.Response.WriteAsJsonAsync(new ErrorBody("shutting down, try again later"));
            return;
        }

        await next(context);
    }
}

/// <summary>
/// Says at stop what is left for the next start. The worker is cancelled mid-event at most: an event is marked done only
/// in the transaction that records its outcome, so an interrupted one stays pending and is picked up again (Discord's role
/// PUT is idempotent, and a member who already holds the role is recorded without a second PUT).
/// </summary>
public sealed class ShutdownReporter(Database database, ILogger<ShutdownReporter> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("Shutting down: refusing new webhooks (503), finishing requests in flight, then stopping the grant worker");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var left = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM webhook_events WHERE status = 'pending'");
            logger.LogInformation("Stopped; {Unfinished} accepted webhook event(s) are parked in the inbox and resume at the next start", left);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or TimeoutException or IOException or InvalidOperationException or OperationCanceledException or StoreUnavailableException)
        {
            logger.LogWarning("Stopped; could not count unfinished events ({Message}); they resume at the next start", ex.Message);
        }
    }
}
