using Dapper;
using WalverBot.Discord.Gateway;
using WalverBot.Storage;

namespace WalverBot.Health;

/// <summary><c>/healthz</c> (the process runs) and <c>/readyz</c> (database open and gateway session ready).</summary>
public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" }));
        endpoints.MapGet("/readyz", ReadyAsync);
        return endpoints;
    }

    private static async Task<IResult> ReadyAsync(Database database, IGatewayStatus gateway, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await connection.ExecuteScalarAsync<long>("SELECT 1");
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException or InvalidOperationException)
        {
            problems.Add($"database: {ex.Message}");
        }

        if (database.Health.Check() is { } storeProblem)
        {
            problems.Add($"database: {storeProblem}");
        }

        if (!gateway.IsReady)
        {
            problems.Add($"gateway: {gateway.NotReadyReason ?? "not connected"}");
        }

        return problems.Count == 0
            ? TypedResults.Ok(new { status = "ready" })
            : TypedResults.Json(new { status = "not ready", reasons = problems }, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
