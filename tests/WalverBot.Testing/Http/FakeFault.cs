namespace WalverBot.Testing.Http;

/// <summary>A misbehaviour a fake applies to the next matching request(s).</summary>
public abstract record FakeFault
{
    /// <summary>Answer this status with this body instead of handling the request.</summary>
    public static FakeFault Status(int status, string body = "", string contentType = "application/json") =>
        new FakeStatusFault(status, body, contentType);

    /// <summary>A Cloudflare-style 502: an HTML page, not JSON.</summary>
    public static FakeFault BadGateway() => new FakeStatusFault(
        502,
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>",
        "text/html");

    /// <summary>Wait this long (real time) and then handle the request normally.</summary>
    public static FakeFault Delay(TimeSpan delay) => new FakeDelayFault(delay);

    /// <summary>Hold the request until <paramref name="released"/> completes, then handle it normally: a slow service, on cue.</summary>
    public static FakeFault Hold(Task released) => new FakeHoldFault(released);

    /// <summary>Drop the TCP connection without answering.</summary>
    public static FakeFault Abort() => new FakeAbortFault();

    /// <summary>Answer 429 with this retry_after (seconds). Scope is Discord's X-RateLimit-Scope: user, shared or global.</summary>
    public static FakeFault RateLimited(double retryAfterSeconds, string scope = "user") =>
        new FakeRateLimitFault(retryAfterSeconds, scope);
}

public sealed record FakeStatusFault(int StatusCode, string Body, string ContentType) : FakeFault;

public sealed record FakeDelayFault(TimeSpan Duration) : FakeFault;

public sealed record FakeHoldFault(Task Released) : FakeFault;

public sealed record FakeAbortFault : FakeFault;

public sealed record FakeRateLimitFault(double RetryAfterSeconds, string Scope) : FakeFault;
