using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WalverBot.Testing.Http;

namespace WalverBot.Testing.FakeWalver;

public sealed class FakeWalverOptions
{
    public string ApiKey { get; init; } = "wvs_fake_api_key_for_tests";

    /// <summary>Walver: "Most endpoints are limited to 10 requests per minute per IP address".</summary>
    public int RequestsPerMinute { get; set; } = 10;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>A verification the fake accepted: our id and the JSON body as sent.</summary>
public sealed record FakeWalverVerification(string Id, JsonObject Body, DateTimeOffset CreatedAt);

/// <summary>
/// Walver's API (FastAPI-style answers: errors as {"detail": ...}): POST /new with X-API-Key,
/// body validation, 409 on a duplicate id, 10 requests/minute per client answered 429 with
/// X-RateLimit-* headers, and faults on demand.
/// </summary>
public sealed class FakeWalverApi : IAsyncDisposable
{
    private static readonly string[] Chains = ["solana", "ethereum", "polygon", "bsc", "base", "arbitrum", "optimism", "avalanche"];
    private static readonly string[] FieldTypes = ["text", "email", "url", "twitter", "telegram", "discord", "number", "date", "checkbox", "select"];

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly FakeHttpPipeline _pipeline;
    private readonly Dictionary<string, FakeWalverVerification> _verifications = [];
    private readonly List<FakeWalverVerification> _created = [];
    private readonly Dictionary<string, (int Count, DateTimeOffset ResetAt)> _windows = [];
    private WebApplication? _app;

    private FakeWalverApi(FakeWalverOptions options)
    {
        Options = options;
        _time = options.TimeProvider;
        // What a proxy in front of Walver answers while it is down: an HTML page, not JSON.
        _pipeline = new FakeHttpPipeline(_time, status => ("<html><body><h1>" + status + " Bad Gateway</h1></body></html>", "text/html"));
    }

    public FakeWalverOptions Options { get; }

    public string ApiKey => Options.ApiKey;

    /// <summary>e.g. http://127.0.0.1:PORT (no trailing slash), the value for Walver:BaseUrl.</summary>
    public string BaseUrl { get; private set; } = "";

    public static async Task<FakeWalverApi> StartAsync(FakeWalverOptions? options = null)
    {
        var api = new FakeWalverApi(options ?? new FakeWalverOptions());
        var (app, baseAddress) = await FakeLoopbackHost.StartAsync(a =>
        {
            a.Use(api._pipeline.InvokeAsync);
            a.Run(api.AnswerAsync);
        }).ConfigureAwait(false);
        api._app = app;
        api.BaseUrl = baseAddress.ToString().TrimEnd('/');
        return api;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    // ---- Seeding, faults, inspection -----------------------------------------------------------

    /// <summary>Pretends a verification with this id already exists (so POST /new answers 409).</summary>
    public void SeedExisting(string id)
    {
        lock (_gate)
        {
            _verifications[id] = new FakeWalverVerification(id, new JsonObject { ["id"] = id }, _time.GetUtcNow());
        }
    }

    /// <summary>Faults for the next matching requests, e.g. InjectFault("POST", "/new", FakeFault.Status(500, "Internal Server Error", "text/plain")).</summary>
    public void InjectFault(string method, string pathPattern, FakeFault fault, int times = 1) =>
        _pipeline.Faults.Add(method, pathPattern, fault, times);

    public void GoDown(int status = 502) => _pipeline.Faults.BeginOutage(status);

    public void ComeBackUp() => _pipeline.Faults.EndOutage();

    public IReadOnlyList<FakeRecordedRequest> Requests => _pipeline.Recorder.Snapshot();

    /// <summary>Every request as it arrived, with awaitable waits for arrivals.</summary>
    public FakeRequestRecorder Recorder => _pipeline.Recorder;

    /// <summary>Verifications created through the API, in order.</summary>
    public IReadOnlyList<FakeWalverVerification> Created
    {
        get { lock (_gate) { return [.. _created]; } }
    }

    public FakeWalverVerification? Verification(string id)
    {
        lock (_gate)
        {
            return _verifications.GetValueOrDefault(id);
        }
    }

    public Task WaitUntilAsync(Func<FakeWalverApi, bool> condition, TimeSpan? timeout = null, string description = "a condition on the fake Walver") =>
        _pipeline.Signal.WaitUntilAsync(() => condition(this), timeout ?? TimeSpan.FromSeconds(10), description);

    public Task WaitForRequestsAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(w => w.Requests.Count(r => r.Status is not null) >= count, timeout, $"{count} answered requests");

    // ---- Routes --------------------------------------------------------------------------------

    private async Task AnswerAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var limited = $"Rate limit exceeded: {Options.RequestsPerMinute} per 1 minute";
        if (await _pipeline.TryFaultAsync(context, path, _ => WriteJsonAsync(context, 429, new JsonObject { ["error"] = limited })).ConfigureAwait(false))
        {
            return;
        }

        if (path.TrimEnd('/') != "/new")
        {
            await WriteJsonAsync(context, 404, new JsonObject { ["detail"] = "Not Found" }).ConfigureAwait(false);
            return;
        }

        if (context.Request.Method != "POST")
        {
            await WriteJsonAsync(context, 405, new JsonObject { ["detail"] = "Method Not Allowed" }).ConfigureAwait(false);
            return;
        }

        await CreateAsync(context).ConfigureAwait(false);
    }

    /// <summary>
    /// POST /new. Order follows how a FastAPI app with a key dependency and a rate-limit decorator
    /// answers: API key (401), body validation (422), rate limit (429), then the handler (400, 409, 200).
    /// </summary>
    private async Task CreateAsync(HttpContext context)
    {
        var key = context.Request.Headers["X-API-Key"].FirstOrDefault();
        if (key is null)
        {
            await WriteJsonAsync(context, 401, new JsonObject { ["detail"] = "API key required" }).ConfigureAwait(false);
            return;
        }

        if (!string.Equals(key, ApiKey, StringComparison.Ordinal))
        {
            await WriteJsonAsync(context, 401, new JsonObject { ["detail"] = "Invalid API key" }).ConfigureAwait(false);
            return;
        }

        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false) as JsonObject;
        }
        catch (JsonException)
        {
            body = null;
        }

        var problems = Validate(body);
        if (problems.Count > 0)
        {
            await WriteJsonAsync(context, 422, new JsonObject { ["detail"] = problems }).ConfigureAwait(false);
            return;
        }

        if (!TryTakeRateLimit(context, out var retryAfter))
        {
            context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
            await WriteJsonAsync(context, 429, new JsonObject { ["error"] = $"Rate limit exceeded: {Options.RequestsPerMinute} per 1 minute" }).ConfigureAwait(false);
            return;
        }

        var id = body!["id"]!.GetValue<string>();
        var chain = body["chain"]!.GetValue<string>();
        if (!Chains.Contains(chain))
        {
            await WriteJsonAsync(context, 400, new JsonObject { ["detail"] = $"Unsupported chain: {chain}" }).ConfigureAwait(false);
            return;
        }

        var webhook = body["webhook"]?.GetValue<string>();
        if (webhook is null && body["folder_id"] is null)
        {
            await WriteJsonAsync(context, 400, new JsonObject { ["detail"] = "Webhook URL is required for verifications outside a folder" }).ConfigureAwait(false);
            return;
        }

        if (webhook is not null && !webhook.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            await WriteJsonAsync(context, 400, new JsonObject { ["detail"] = "Webhook URL must use HTTPS" }).ConfigureAwait(false);
            return;
        }

        FakeWalverVerification created;
        lock (_gate)
        {
            if (_verifications.ContainsKey(id))
            {
                created = null!;
            }
            else
            {
                created = new FakeWalverVerification(id, (JsonObject)body.DeepClone(), _time.GetUtcNow());
                _verifications[id] = created;
                _created.Add(created);
            }
        }

        if (created is null)
        {
            await WriteJsonAsync(context, 409, new JsonObject { ["detail"] = "Verification with this ID already exists" }).ConfigureAwait(false);
            return;
        }

        var answer = (JsonObject)body.DeepClone();
        answer.Remove("secret"); // never echoed back
        answer["verification_url"] = "https://walver.io/verify/" + Uri.EscapeDataString(id);
        answer["created_at"] = created.CreatedAt.ToString("yyyy-MM-ddTHH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        answer["internal_id"] ??= Guid.NewGuid().ToString();
        await WriteJsonAsync(context, 200, answer).ConfigureAwait(false);
    }

    private static JsonArray Validate(JsonObject? body)
    {
        var problems = new JsonArray();
        if (body is null)
        {
            problems.Add(Problem(["body"], "json_invalid", "JSON decode error"));
            return problems;
        }

        foreach (var field in new[] { "id", "service_name", "chain" })
        {
            if (body[field] is null)
            {
                problems.Add(Problem(["body", field], "missing", "Field required"));
            }
            else if (body[field] is not JsonValue v || !v.TryGetValue(out string? _))
            {
                problems.Add(Problem(["body", field], "string_type", "Input should be a valid string"));
            }
        }

        if (body["expiration"] is JsonValue expiration
            && (!expiration.TryGetValue(out string? text) || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _)))
        {
            problems.Add(Problem(["body", "expiration"], "datetime_from_date_parsing", "Input should be a valid datetime"));
        }

        foreach (var flag in new[] { "one_time", "token_gate", "is_nft", "force_email_verification", "force_telegram_verification", "force_twitter_verification", "force_telephone_verification", "force_discord_verification" })
        {
            if (body[flag] is { } value && value.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            {
                problems.Add(Problem(["body", flag], "bool_type", "Input should be a valid boolean"));
            }
        }

        if (body["custom_fields"] is { } fields)
        {
            if (fields is not JsonArray list)
            {
                problems.Add(Problem(["body", "custom_fields"], "list_type", "Input should be a valid list"));
            }
            else
            {
                for (var i = 0; i < list.Count; i++)
                {
                    var field = list[i] as JsonObject;
                    foreach (var required in new[] { "id", "type", "name" })
                    {
                        if (field?[required] is null)
                        {
                            problems.Add(Problem(["body", "custom_fields", i, required], "missing", "Field required"));
                        }
                    }

                    if (field?["type"] is JsonValue type && type.TryGetValue(out string? typeName) && !FieldTypes.Contains(typeName))
                    {
                        problems.Add(Problem(["body", "custom_fields", i, "type"], "enum", "Input should be one of: " + string.Join(", ", FieldTypes)));
                    }
                }
            }
        }

        return problems;
    }

    private static JsonObject Problem(JsonNode[] location, string type, string message) => new()
    {
        ["type"] = type,
        ["loc"] = new JsonArray(location),
        ["msg"] = message,
    };

    /// <summary>Fixed one-minute window per client address; sets X-RateLimit-* on every counted answer.</summary>
    private bool TryTakeRateLimit(HttpContext context, out int retryAfterSeconds)
    {
        var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var now = _time.GetUtcNow();
        int count;
        DateTimeOffset resetAt;
        lock (_gate)
        {
            if (!_windows.TryGetValue(client, out var window) || now >= window.ResetAt)
            {
                window = (0, now.AddMinutes(1));
            }

            window.Count++;
            _windows[client] = window;
            (count, resetAt) = window;
        }

        var limit = Options.RequestsPerMinute;
        var headers = context.Response.Headers;
        headers["X-RateLimit-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Remaining"] = Math.Max(0, limit - count).ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Reset"] = resetAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        retryAfterSeconds = (int)Math.Ceiling((resetAt - now).TotalSeconds);
        return count <= limit;
    }

    private static Task WriteJsonAsync(HttpContext context, int status, JsonNode body) =>
        FakeHttpPipeline.WriteAsync(context, status, body.ToJsonString(), "application/json");
}
