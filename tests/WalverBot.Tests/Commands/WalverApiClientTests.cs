using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Configuration;
using WalverBot.Tests.Hosting;
using WalverBot.Walver;

namespace WalverBot.Tests.Commands;

/// <summary>The Walver client as the app composes it (typed client + resilience handler), over a scripted transport.</summary>
public sealed class WalverApiClientTests : IDisposable
{
    private const string ApiKey = "wvs_live_do_not_log_me_0123456789";
    private static readonly WalverCreateRequest Request = new() { Id = "wb_1_abc", ServiceName = "Guild", Chain = "ethereum", Secret = "secret-value-xyz" };

    private readonly ScriptedHandler _handler = new();
    private readonly CapturedLogs _logs = new();
    private ServiceProvider? _services;

    public void Dispose() => _services?.Dispose();

    [Fact]
    public async Task A_5xx_is_retried_and_the_created_link_returned()
    {
        _handler.Answer(HttpStatusCode.InternalServerError, "Internal Server Error");
        _handler.Answer(HttpStatusCode.OK, """{"id":"wb_1_abc","verification_url":"https://walver.io/verify/wb_1_abc"}""");

        var result = await Api().CreateVerificationAsync(Request, CancellationToken.None);

        Assert.Equal(new WalverCreateResult.Created("https://walver.io/verify/wb_1_abc"), result);
        Assert.Equal(2, _handler.Requests.Count);
        Assert.All(_handler.Requests, r => Assert.Equal(ApiKey, r.ApiKey));
        Assert.All(_handler.Requests, r => Assert.Equal("https://walver.test/api/new", r.Uri));
        Assert.Contains("\"service_name\":\"Guild\"", _handler.Requests[0].Body, StringComparison.Ordinal);
        Assert.DoesNotContain("null", _handler.Requests[0].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_409_is_an_answer_not_a_failure()
    {
        _handler.Answer(HttpStatusCode.Conflict, """{"detail":"Verification with this ID already exists"}""");

        Assert.Equal(new WalverCreateResult.AlreadyExists(false), await Api().CreateVerificationAsync(Request, CancellationToken.None));
        Assert.Single(_handler.Requests);
    }

    [Fact]
    public async Task A_409_after_a_lost_answer_says_the_first_attempt_probably_created_it()
    {
        _handler.Answer(HttpStatusCode.BadGateway, "<html>502</html>");
        _handler.Answer(HttpStatusCode.Conflict, """{"detail":"Verification with this ID already exists"}""");

        Assert.Equal(new WalverCreateResult.AlreadyExists(true), await Api().CreateVerificationAsync(Request, CancellationToken.None));
    }

    [Fact]
    public async Task A_429_is_not_retried_and_the_next_call_waits_without_asking()
    {
        _handler.Answer(HttpStatusCode.TooManyRequests, """{"error":"Rate limit exceeded: 10 per 1 minute"}""", h => h.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(30)));
        var api = Api();

        var first = Assert.IsType<WalverCreateResult.RateLimited>(await api.CreateVerificationAsync(Request, CancellationToken.None));
        var second = Assert.IsType<WalverCreateResult.RateLimited>(await api.CreateVerificationAsync(Request, CancellationToken.None));

        Assert.Equal(TimeSpan.FromSeconds(30), first.RetryAfter);
        Assert.InRange(second.RetryAfter!.Value, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
        Assert.Single(_handler.Requests);
    }

    [Fact]
    public async Task An_exhausted_rate_limit_on_a_success_holds_the_next_call()
    {
        var reset = DateTimeOffset.UtcNow.AddSeconds(20).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        _handler.Answer(HttpStatusCode.OK, """{"verification_url":"https://walver.io/verify/a"}""", h =>
        {
            h.Add("X-RateLimit-Remaining", "0");
            h.Add("X-RateLimit-Reset", reset);
        });
        var api = Api();

        Assert.IsType<WalverCreateResult.Created>(await api.CreateVerificationAsync(Request, CancellationToken.None));
        var held = Assert.IsType<WalverCreateResult.RateLimited>(await api.CreateVerificationAsync(Request, CancellationToken.None));

        Assert.InRange(held.RetryAfter!.Value, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(21));
        Assert.Single(_handler.Requests);
    }

    [Theory]
    [InlineData(HttpStatusCode.UnprocessableEntity, """{"detail":[{"type":"missing","loc":["body","chain"],"msg":"Field required"}]}""", "chain: Field required")]
    [InlineData(HttpStatusCode.BadRequest, """{"detail":"Webhook URL must use HTTPS"}""", "Webhook URL must use HTTPS")]
    [InlineData(HttpStatusCode.NotFound, "<html>nope</html>", "an answer that is not JSON")]
    public async Task Other_4xx_answers_are_refusals_with_Walvers_reason(HttpStatusCode status, string body, string detail)
    {
        _handler.Answer(status, body);

        Assert.Equal(new WalverCreateResult.Rejected((int)status, detail), await Api().CreateVerificationAsync(Request, CancellationToken.None));
        Assert.Single(_handler.Requests);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    public async Task A_refused_key_is_reported_as_such(HttpStatusCode status)
    {
        _handler.Answer(status, """{"detail":"Invalid API key"}""");

        Assert.IsType<WalverCreateResult.Unauthorized>(await Api().CreateVerificationAsync(Request, CancellationToken.None));
    }

    [Fact]
    public async Task No_answer_is_retried_within_the_timeouts_then_reported()
    {
        _handler.Hang(times: 10);

        var result = await Api(attemptTimeout: "00:00:00.200", retries: "2").CreateVerificationAsync(Request, CancellationToken.None);

        Assert.Equal(new WalverCreateResult.Unavailable("Walver did not answer within 0.2 s"), result);
        Assert.Equal(3, _handler.Requests.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the bare SocketException HttpClient lets through when a connection is reset as it opens
    public async Task A_connection_failure_is_retried_then_reported(bool reset)
    {
        _handler.Fail(times: 10, reset);

        var result = Assert.IsType<WalverCreateResult.Unavailable>(await Api(retries: "1").CreateVerificationAsync(Request, CancellationToken.None));

        Assert.StartsWith("could not reach Walver", result.Reason, StringComparison.Ordinal);
        Assert.Equal(2, _handler.Requests.Count);
    }

    [Fact]
    public async Task A_success_without_a_link_is_not_taken_for_a_success()
    {
        _handler.Answer(HttpStatusCode.OK, """{"id":"wb_1_abc"}""");

        Assert.IsType<WalverCreateResult.Unavailable>(await Api().CreateVerificationAsync(Request, CancellationToken.None));
    }

    [Fact]
    public async Task The_key_and_the_secret_never_reach_the_logs_even_at_trace_level()
    {
        _handler.Answer(HttpStatusCode.InternalServerError, "oops");
        _handler.Answer(HttpStatusCode.Conflict, """{"detail":"exists"}""");

        await Api().CreateVerificationAsync(Request, CancellationToken.None);

        Assert.NotEmpty(_logs.Lines);
        Assert.DoesNotContain(ApiKey, _logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain(Request.Secret!, _logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public void Retry_after_is_read_from_a_date_or_a_reset_time()
    {
        var now = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var dated = new HttpResponseMessage();
        dated.Headers.RetryAfter = new RetryConditionHeaderValue(now.AddSeconds(90));
        using var relative = new HttpResponseMessage();
        relative.Headers.Add("X-RateLimit-Reset", "12.5");
        using var none = new HttpResponseMessage();

        Assert.Equal(TimeSpan.FromSeconds(90), WalverRateGate.RetryAfter(dated.Headers, now));
        Assert.Equal(TimeSpan.FromSeconds(12.5), WalverRateGate.RetryAfter(relative.Headers, now));
        Assert.Null(WalverRateGate.RetryAfter(none.Headers, now));
    }

    private IWalverApi Api(string attemptTimeout = "00:00:05", string retries = "2")
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Walver:BaseUrl"] = "https://walver.test/api",
            ["Walver:ApiKey"] = ApiKey,
            ["Walver:AttemptTimeout"] = attemptTimeout,
            ["Walver:MaxRetries"] = retries,
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
        services.AddSingleton(TimeProvider.System);
        services.AddWalver();
        services.AddHttpClient<IWalverApi, WalverApiClient>().ConfigurePrimaryHttpMessageHandler(() => _handler);
        _services = services.BuildServiceProvider();
        return _services.GetRequiredService<IWalverApi>();
    }

    private sealed record Seen(string Uri, string? ApiKey, string Body);

    /// <summary>Answers requests from a script: a response, a hang until cancelled, or a connection failure.</summary>
    private sealed class ScriptedHandler : HttpMessageHandler
    {
        private readonly ConcurrentQueue<Func<CancellationToken, Task<HttpResponseMessage>>> _script = new();
        private readonly ConcurrentQueue<Seen> _requests = new();

        public IReadOnlyList<Seen> Requests => [.. _requests];

        public void Answer(HttpStatusCode status, string body, Action<HttpResponseHeaders>? headers = null) =>
            _script.Enqueue(_ =>
            {
                var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, body.StartsWith('<') || !body.StartsWith('{') ? "text/html" : "application/json") };
                headers?.Invoke(response.Headers);
                return Task.FromResult(response);
            });

        public void Hang(int times)
        {
            for (var i = 0; i < times; i++)
            {
                _script.Enqueue(async token =>
                {
                    await Task.Delay(Timeout.Infinite, token);
                    throw new InvalidOperationException("unreachable");
                });
            }
        }

        public void Fail(int times, bool reset = false)
        {
            for (var i = 0; i < times; i++)
            {
                _script.Enqueue(_ => throw (reset
                    ? new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.NotConnected)
                    : new HttpRequestException("Connection refused (walver.test:443)")));
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
            _requests.Enqueue(new Seen(request.RequestUri!.ToString(), request.Headers.TryGetValues("X-API-Key", out var key) ? key.Single() : null, body));
            return _script.TryDequeue(out var next)
                ? await next(cancellationToken)
                : throw new InvalidOperationException("the script has no more answers");
        }
    }
}
