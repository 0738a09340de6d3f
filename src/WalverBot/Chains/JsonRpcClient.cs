using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Polly.Timeout;

namespace WalverBot.Chains;

/// <summary>One JSON-RPC call: a method and its positional parameters.</summary>
public sealed record RpcCall(string Method, JsonArray Params);

/// <summary>
/// A small JSON-RPC 2.0 client (https://www.jsonrpc.org/specification) for one chain's endpoint, shared by the EVM and
/// Solana readers so the rate limit, retries (the HttpClient's pipeline), key-safe messages and the "endpoint down"
/// log line live in one place. Every failure is a <see cref="ChainReadException"/> naming the endpoint by scheme and
/// host only; nothing it throws carries the URL's path or query, where providers put API keys.
/// </summary>
public sealed class JsonRpcClient(HttpClient http, ChainEndpoint endpoint, RpcEndpointHealth health)
{
    private long _nextId;

    public ChainEndpoint Endpoint => endpoint;

    public async Task<JsonElement> CallAsync(string method, JsonArray parameters, CancellationToken cancellationToken)
    {
        var results = await BatchAsync([new RpcCall(method, parameters)], single: true, cancellationToken).ConfigureAwait(false);
        return results[0];
    }

    /// <summary>Sends the calls as one batch (a JSON array) and answers their results in the same order.</summary>
    public Task<IReadOnlyList<JsonElement>> BatchAsync(IReadOnlyList<RpcCall> calls, CancellationToken cancellationToken) =>
        BatchAsync(calls, single: false, cancellationToken);

    private async Task<IReadOnlyList<JsonElement>> BatchAsync(IReadOnlyList<RpcCall> calls, bool single, CancellationToken cancellationToken)
    {
        var firstId = Interlocked.Add(ref _nextId, calls.Count) - calls.Count + 1;
        var requests = new JsonArray();
        for (var i = 0; i < calls.Count; i++)
        {
            requests.Add(new JsonObject
            {
                ["jsonrpc"] = "2.0",
                ["id"] = firstId + i,
                ["method"] = calls[i].Method,
                ["params"] = calls[i].Params.DeepClone(),
            });
        }

        var body = single ? requests[0]!.ToJsonString() : requests.ToJsonString();
        var what = single ? calls[0].Method : $"a batch of {calls.Count} {calls[0].Method}";
        try
        {
            var document = await PostAsync(body, what, cancellationToken).ConfigureAwait(false);
            var results = Match(document.RootElement, firstId, calls, what);
            health.Answered(endpoint);
            return results;
        }
        catch (ChainReadException ex)
        {
            health.Failed(endpoint, ex.Message);
            throw;
        }
    }

    private async Task<JsonDocument> PostAsync(string body, string what, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.RpcUrl)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (!string.IsNullOrEmpty(endpoint.RpcUrl.UserInfo))
        {
            // HttpClient does not send a URL's user:password itself.
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(endpoint.RpcUrl.UserInfo))));
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or System.Net.Sockets.SocketException or TimeoutRejectedException or TaskCanceledException or IOException)
        {
            // The exception's own message is left out: some name the full request URL.
            throw Fail(what, ex switch
            {
                HttpRequestException { HttpRequestError: var error } => $"no answer ({Describe(error)})",
                System.Net.Sockets.SocketException => "no answer (the connection was reset as it opened)",
                _ => "no answer in time",
            });
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw Fail(what, response.StatusCode switch
                {
                    HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => $"refused (HTTP {(int)response.StatusCode}); check the key in Chains:{endpoint.Chain}:RpcUrl",
                    HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed => $"no JSON-RPC endpoint at this URL (HTTP {(int)response.StatusCode}); check Chains:{endpoint.Chain}:RpcUrl",
                    HttpStatusCode.TooManyRequests => $"still rate limited (HTTP 429) after retries; lower Chains:{endpoint.Chain}:RequestsPerSecond or use a plan with more requests",
                    _ => $"failed (HTTP {(int)response.StatusCode})",
                });
            }

            try
            {
                var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                return await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException)
            {
                throw Fail(what, "answered something that is not JSON");
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or IOException or TaskCanceledException)
            {
                throw Fail(what, "broke off its answer");
            }
        }
    }

    private IReadOnlyList<JsonElement> Match(JsonElement root, long firstId, IReadOnlyList<RpcCall> calls, string what)
    {
        // A node may refuse a whole batch with one error object (e.g. a batch over its size limit).
        if (root.ValueKind == JsonValueKind.Object && calls.Count > 1)
        {
            throw Fail(what, root.TryGetProperty("error", out var batchError) ? $"refused the batch: {DescribeError(batchError)}" : "answered a batch with a single object");
        }

        var answers = root.ValueKind switch
        {
            JsonValueKind.Object => [root],
            JsonValueKind.Array => root.EnumerateArray().ToList(),
            _ => throw Fail(what, "answered something that is not JSON-RPC"),
        };

        // Batch answers may come in any order (JSON-RPC 2.0, section 6): match them by id.
        var results = new JsonElement[calls.Count];
        var seen = new bool[calls.Count];
        foreach (var answer in answers)
        {
            if (answer.ValueKind != JsonValueKind.Object || !answer.TryGetProperty("id", out var idElement) || !idElement.TryGetInt64(out var id) ||
                id < firstId || id >= firstId + calls.Count)
            {
                throw Fail(what, answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("error", out var stray)
                    ? DescribeError(stray)
                    : "answered with an id it was not asked for");
            }

            var index = (int)(id - firstId);
            if (answer.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
            {
                throw Fail(calls[index].Method, DescribeError(error));
            }

            if (!answer.TryGetProperty("result", out var result))
            {
                throw Fail(calls[index].Method, "answered neither a result nor an error");
            }

            results[index] = result.Clone();
            seen[index] = true;
        }

        if (Array.IndexOf(seen, false) is var missing and >= 0)
        {
            throw Fail(calls[missing].Method, "left a request of the batch unanswered");
        }

        return results;
    }

    private ChainReadException Fail(string what, string reason) =>
        new(endpoint.Chain, $"{endpoint.Chain} RPC {endpoint.SafeName}: {what} {reason}");

    private static string DescribeError(JsonElement error)
    {
        var code = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var c) ? c.ToString() : "?";
        var message = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) ? m.ToString() : error.ToString();
        if (message.Length > 200)
        {
            message = message[..200] + "…";
        }

        return $"answered error {code}: {message}";
    }

    private static string Describe(HttpRequestError error) => error switch
    {
        HttpRequestError.NameResolutionError => "the host name does not resolve",
        HttpRequestError.ConnectionError => "connection refused or lost",
        HttpRequestError.SecureConnectionError => "TLS handshake failed",
        _ => error.ToString(),
    };
}

/// <summary>
/// Whether each endpoint answers, logged once per change (down, then up again) rather than once per request, so a
/// node that is down for an hour is one clear line, not thousands.
/// </summary>
public sealed class RpcEndpointHealth(ILogger<RpcEndpointHealth> logger)
{
    private readonly Dictionary<string, bool> _down = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();

    public bool IsDown(string chain)
    {
        lock (_gate)
        {
            return _down.GetValueOrDefault(chain);
        }
    }

    public void Failed(ChainEndpoint endpoint, string reason)
    {
        lock (_gate)
        {
            if (_down.GetValueOrDefault(endpoint.Chain))
            {
                return;
            }

            _down[endpoint.Chain] = true;
        }

        logger.LogWarning("Chain {Chain}: RPC endpoint {Endpoint} is down or misconfigured ({Reason}); holdings on this chain are not read until it answers",
            endpoint.Chain, endpoint.SafeName, reason);
    }

    public void Answered(ChainEndpoint endpoint)
    {
        lock (_gate)
        {
            if (!_down.GetValueOrDefault(endpoint.Chain))
            {
                return;
            }

            _down[endpoint.Chain] = false;
        }

        logger.LogInformation("Chain {Chain}: RPC endpoint {Endpoint} answers again", endpoint.Chain, endpoint.SafeName);
    }
}
