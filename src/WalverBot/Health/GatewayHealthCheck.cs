using Microsoft.Extensions.Diagnostics.HealthChecks;
using WalverBot.Discord.Gateway;

namespace WalverBot.Health;

/// <summary>
/// The Discord gateway, reported but never required: registered with failure status Degraded, so readiness stays 200
/// with the reason (connecting, reconnecting, or stopped with the advice) in the body.
/// </summary>
public sealed class GatewayHealthCheck(IGatewayStatus gateway) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(gateway switch
        {
            { Stopped: { } stop } => new HealthCheckResult(context.Registration.FailureStatus, stop.ToString()),
            { IsReady: true } => HealthCheckResult.Healthy(),
            _ => new HealthCheckResult(context.Registration.FailureStatus, gateway.NotReadyReason ?? "not connected"),
        });
}
