using System.Net;
using System.Text;

namespace WalverBot.Discord.Tests.Rest.Fakes;

/// <summary>A request as the fake Discord saw it.</summary>
internal sealed record RecordedRequest(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, string? Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// A fake Discord: answers requests from a script (first in, first out), then with <see cref="Fallback"/>.
/// Each request is recorded the moment it arrives, so a test can assert that nothing was sent yet.
/// </summary>
internal sealed class ScriptedHttpHandler : HttpMessageHandler
{
    public delegate Task<HttpResponseMessage> Responder(HttpRequestMessage request, CancellationToken cancellationToken);

    private readonly Lock _lock = new();
    private readonly Queue<Responder> _script = new();
    private readonly List<RecordedRequest> _requests = [];

    public Responder Fallback { get; set; } = (_, _) => Task.FromResult(Responses.Json(HttpStatusCode.OK, "{}"));

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _requests.Count;
            }
        }
    }

    public void Enqueue(Responder responder)
    {
        lock (_lock)
        {
            _script.Enqueue(responder);
        }
    }

    public void Enqueue(HttpResponseMessage response) => Enqueue((_, _) => Task.FromResult(response));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // NonValidated: the values as they go on the wire (User-Agent's parts joined by spaces, not commas).
        var headers = request.Headers.NonValidated.Concat(request.Content?.Headers.NonValidated ?? default)
            .ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        // Request bodies here are in-memory bytes: reading them completes at once.
        var body = request.Content?.ReadAsStringAsync(cancellationToken).GetAwaiter().GetResult();
        Responder responder;
        lock (_lock)
        {
            _requests.Add(new RecordedRequest(request.Method, request.RequestUri!, headers, body));
            responder = _script.Count > 0 ? _script.Dequeue() : Fallback;
        }

        var response = await responder(request, cancellationToken);
        response.RequestMessage = request;
        return response;
    }
}

internal static class Responses
{
    public static HttpResponseMessage Json(HttpStatusCode status, string json, params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    }

    /// <summary>A 200 carrying Discord's rate-limit headers.</summary>
    public static HttpResponseMessage Limited(string json, string bucket, int remaining, double resetAfter) =>
        Json(HttpStatusCode.OK, json,
            ("X-RateLimit-Bucket", bucket),
            ("X-RateLimit-Limit", "5"),
            ("X-RateLimit-Remaining", remaining.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("X-RateLimit-Reset-After", resetAfter.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>A 429 shaped like the examples in Discord's rate-limit docs.</summary>
    public static HttpResponseMessage TooManyRequests(double retryAfter, string scope, string? bucket = null)
    {
        var global = scope == "global";
        var seconds = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var json = $$"""{"message":"You are being rate limited.","retry_after":{{seconds}},"global":{{(global ? "true" : "false")}}}""";
        var headers = new List<(string, string)> { ("X-RateLimit-Scope", scope), ("Retry-After", Math.Ceiling(retryAfter).ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        if (global)
        {
            headers.Add(("X-RateLimit-Global", "true"));
        }
        else if (bucket is not null)
        {
            headers.AddRange([("X-RateLimit-Bucket", bucket), ("X-RateLimit-Limit", "5"), ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset-After", seconds)]);
        }

        return Json(HttpStatusCode.TooManyRequests, json, [.. headers]);
    }

    /// <summary>Never answers; ends only when the request is cancelled (by the caller or the timeout).</summary>
    public static async Task<HttpResponseMessage> Hang(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("unreachable");
    }
}
