using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WalverBot.Health;

/// <summary>
/// <c>/healthz</c> (liveness: the process runs) and <c>/readyz</c> (readiness: the bot can accept webhooks).
/// Readiness is ASP.NET Core's health checks: the database is required (Unhealthy → 503); the Discord gateway is
/// only reported (Degraded → 200, the reason in the body), because webhooks are accepted and stored whatever Discord
/// does, and a load balancer or Kubernetes must not take the webhook receiver out while Discord is down.
/// </summary>
public static class HealthEndpoints
{
    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", HealthStatus.Unhealthy)
            .AddCheck<GatewayHealthCheck>("gateway", HealthStatus.Degraded);
        services.AddHostedService<GatewayStopReporter>();
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" }));
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = WriteReadinessAsync,
        });
        return endpoints;
    }

    /// <summary><c>{"status":"ready"}</c>, or <c>"degraded"</c> / <c>"not ready"</c> with one reason per check that is not healthy.</summary>
    private static Task WriteReadinessAsync(HttpContext context, HealthReport report)
    {
        var status = report.Status switch
        {
            HealthStatus.Healthy => "ready",
            HealthStatus.Degraded => "degraded",
            _ => "not ready",
        };
        var reasons = report.Entries
            .Where(entry => entry.Value.Status != HealthStatus.Healthy)
            .Select(entry => $"{entry.Key}: {entry.Value.Description ?? entry.Value.Status.ToString()}")
            .ToList();
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(reasons.Count == 0
            ? JsonSerializer.Serialize(new { status })
            : JsonSerializer.Serialize(new { status, reasons }));
    }
}
