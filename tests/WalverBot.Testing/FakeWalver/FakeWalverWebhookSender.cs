using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace WalverBot.Testing.FakeWalver;

/// <summary>What the receiver answered.</summary>
public sealed record FakeWebhookResponse(int Status, string Body, string? ContentType)
{
    /// <summary>The body parsed as JSON, or null when it is not JSON.</summary>
    public JsonNode? Json
    {
        get
        {
            try
            {
                return JsonNode.Parse(Body);
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
        }
    }
}

/// <summary>POSTs webhooks the way Walver does (JSON body), or hostile raw bodies, to a receiver URL.</summary>
public sealed class FakeWalverWebhookSender : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsClient;

    public FakeWalverWebhookSender(HttpClient? http = null)
    {
        _ownsClient = http is null;
        _http = http ?? CreateClient();
    }

    /// <summary>
    /// A client that lets an idle connection go after 1 s, well before the bot's keep-alive timeout (Webhook:IdleTimeout,
    /// 5 s) closes it: a POST sent on a connection the server is closing at that moment is lost ("The response ended
    /// prematurely"), and HttpClient does not send a POST again. Clients should keep their idle timeout under the server's.
    /// </summary>
    public static HttpClient CreateClient() =>
        new(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(1) }) { Timeout = TimeSpan.FromSeconds(30) };

    public Task<FakeWebhookResponse> SendAsync(string url, FakeWalverWebhook webhook, CancellationToken cancellationToken = default) =>
        SendRawAsync(url, webhook.ToJson().ToJsonString(), "application/json", cancellationToken);

    /// <summary>Sends any text with any content type (null: no Content-Type header).</summary>
    public Task<FakeWebhookResponse> SendRawAsync(string url, string body, string? contentType = "application/json", CancellationToken cancellationToken = default) =>
        SendBytesAsync(url, Encoding.UTF8.GetBytes(body), contentType, cancellationToken);

    public async Task<FakeWebhookResponse> SendBytesAsync(string url, byte[] body, string? contentType, CancellationToken cancellationToken = default)
    {
        using var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return new FakeWebhookResponse((int)response.StatusCode, text, response.Content.Headers.ContentType?.MediaType);
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _http.Dispose();
        }
    }
}
