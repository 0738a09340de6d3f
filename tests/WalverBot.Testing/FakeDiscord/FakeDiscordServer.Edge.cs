using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace WalverBot.Testing.FakeDiscord;

/// <summary>What Discord's edge does before a route runs: authentication, rate limits, then scripted faults.</summary>
public sealed partial class FakeDiscordServer
{
    // Discord, Uploading Files: at most 10 files per message, sent as files[n] parts next to payload_json.
    private const int MaxFiles = 10;

    private async ValueTask<object?> EdgeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        var route = http.GetEndpoint()!.Metadata.GetRequiredMetadata<FakeDiscordRoute>();
        if (route.Authenticated && http.Request.Headers.Authorization.ToString() != "Bot " + Token)
        {
            _rateLimiter.CountAnswer(route.Bucket, 401, countRequest: true);
            return FakeDiscordResult.Error(401, 0, "401: Unauthorized");
        }

        if (route.Global && !_rateLimiter.TryAcquireGlobal(out var globalRetry))
        {
            _rateLimiter.CountAnswer(route.Bucket, 429, countRequest: true);
            return TooManyRequests(http, globalRetry, "global");
        }

        var decision = _rateLimiter.Acquire(route.Bucket, MajorParameter(http.Request.RouteValues));
        if (!decision.Allowed)
        {
            AddRateLimitHeaders(http.Response, decision);
            return TooManyRequests(http, decision.ResetAfter, decision.Scope);
        }

        // Scripted faults come from in front of the API (a proxy, an overloaded edge): no bucket headers.
        var faulted = await _pipeline.TryFaultAsync(http, Relative(http.Request.Path.Value ?? ""), limit =>
        {
            if (limit.Scope != "shared")
            {
                _rateLimiter.CountAnswer(route.Bucket, 429, countRequest: false);
            }

            return TooManyRequests(http, limit.RetryAfterSeconds, limit.Scope).ExecuteAsync(http);
        }).ConfigureAwait(false);
        if (faulted)
        {
            return Results.Empty;
        }

        AddRateLimitHeaders(http.Response, decision);
        var result = await next(invocation).ConfigureAwait(false);
        var status = result switch
        {
            FakeDiscordResult r => r.Status,
            Task<FakeDiscordResult> t => (await t.ConfigureAwait(false)).Status,
            _ => 0,
        };
        if (status is 401 or 403)
        {
            _rateLimiter.CountAnswer(route.Bucket, status, countRequest: false);
        }

        return result;
    }

    /// <summary>Discord's JSON error for a path no route serves (404) or a method the path does not take (405).</summary>
    private static async Task AnswerUnroutedAsync(HttpContext context, RequestDelegate next)
    {
        await next(context).ConfigureAwait(false);
        var status = context.Response.StatusCode;
        if (status is 404 or 405 && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            await FakeDiscordResult.Error(status, 0, status == 404 ? "404: Not Found" : "405: Method Not Allowed").ExecuteAsync(context).ConfigureAwait(false);
        }
    }

    /// <summary>Discord keys buckets by the top-level resource: guild, channel, or webhook/interaction and its token.</summary>
    private static string MajorParameter(RouteValueDictionary values)
    {
        string Value(string name) => values[name]?.ToString() ?? "";
        return values.ContainsKey("applicationId") && values.ContainsKey("token") ? Value("applicationId") + "/" + Value("token")
            : values.ContainsKey("interactionId") ? Value("interactionId") + "/" + Value("token")
            : values.ContainsKey("applicationId") ? ""
            : values.ContainsKey("guildId") ? Value("guildId")
            : Value("channelId");
    }

    private static void AddRateLimitHeaders(HttpResponse response, FakeBucketDecision decision)
    {
        response.Headers["X-RateLimit-Limit"] = decision.Limit.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-RateLimit-Remaining"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-RateLimit-Reset"] = FakeDiscordJson.Seconds(decision.ResetAt.ToUnixTimeMilliseconds() / 1000.0);
        response.Headers["X-RateLimit-Reset-After"] = FakeDiscordJson.Seconds(Math.Max(0, decision.ResetAfter));
        response.Headers["X-RateLimit-Bucket"] = decision.Hash;
    }

    /// <summary>429 as Discord documents it: JSON body with retry_after (float seconds) and global, Retry-After, X-RateLimit-Scope, and X-RateLimit-Global on global limits.</summary>
    private static FakeDiscordResult TooManyRequests(HttpContext context, double retryAfter, string scope)
    {
        var global = scope == "global";
        var headers = context.Response.Headers;
        headers.RetryAfter = Math.Ceiling(retryAfter).ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Scope"] = scope;
        if (global)
        {
            headers["X-RateLimit-Global"] = "true";
        }

        return new FakeDiscordResult(429, new JsonObject
        {
            ["message"] = "You are being rate limited.",
            ["retry_after"] = Math.Round(retryAfter, 3),
            ["global"] = global,
        });
    }

    /// <summary>A JSON body; an empty body is null, a malformed one Discord's 50109.</summary>
    private static async Task<(JsonNode? Body, FakeDiscordResult? Error)> ReadJsonAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
        return ParseJson(text);
    }

    private static (JsonNode? Body, FakeDiscordResult? Error) ParseJson(string text)
    {
        try
        {
            return (text.Length == 0 ? null : JsonNode.Parse(text), null);
        }
        catch (JsonException)
        {
            return (null, FakeDiscordResult.Error(400, 50109, "The request body contains invalid JSON."));
        }
    }

    /// <summary>
    /// A message body as JSON, or as Discord's Uploading Files describes it: multipart/form-data with the JSON in a
    /// <c>payload_json</c> part and each file in a <c>files[n]</c> part (n matching an <c>attachments[].id</c>).
    /// </summary>
    private static async Task<(JsonNode? Body, IReadOnlyList<FakeAttachment> Files, FakeDiscordResult? Error)> ReadMessageAsync(HttpRequest request)
    {
        if (!request.HasFormContentType || !request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            var (json, error) = await ReadJsonAsync(request).ConfigureAwait(false);
            return (json, [], error);
        }

        var form = await request.ReadFormAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
        var (body, bodyError) = ParseJson(form["payload_json"].ToString());
        if (bodyError is not null)
        {
            return (null, [], bodyError);
        }

        var files = new List<FakeAttachment>();
        foreach (var file in form.Files)
        {
            if (FileField().Match(file.Name) is not { Success: true } field)
            {
                continue; // Discord ignores parts it does not know.
            }

            using var content = new MemoryStream();
            await file.CopyToAsync(content, request.HttpContext.RequestAborted).ConfigureAwait(false);
            files.Add(new FakeAttachment(field.Groups[1].Value, file.FileName, file.ContentType, content.ToArray()));
        }

        if (files.Count > MaxFiles)
        {
            return (null, [], InvalidForm(FakeDiscordJson.FieldError("files", "BASE_TYPE_MAX_LENGTH", $"Must be {MaxFiles} or fewer in length.")));
        }

        return (body ?? (files.Count > 0 ? new JsonObject() : null), files, null);
    }

    [GeneratedRegex(@"^files\[(\d+)\]$")]
    private static partial Regex FileField();

    /// <summary>Which edge checks a route gets: bot-token auth and the global limit do not apply to interaction routes.</summary>
    private sealed record FakeDiscordRoute(string Bucket, bool Authenticated, bool Global);
}

/// <summary>A Discord answer: status and optional JSON body (rate-limit headers are already on the response).</summary>
internal sealed record FakeDiscordResult(int Status, JsonNode? Body) : IResult
{
    public static FakeDiscordResult NoContent => new(204, null);

    public static FakeDiscordResult Ok(JsonNode body) => new(200, body);

    public static FakeDiscordResult Error(int status, int code, string message, JsonObject? errors = null) =>
        new(status, FakeDiscordJson.Error(code, message, errors));

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = Status;
        if (Body is not null)
        {
            httpContext.Response.ContentType = "application/json";
            await httpContext.Response.WriteAsync(Body.ToJsonString(), httpContext.RequestAborted).ConfigureAwait(false);
        }
    }
}
