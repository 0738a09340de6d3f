using System.Net.Mime;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace WalverBot.Webhooks;

/// <summary><c>POST /webhooks/walver</c>, with every answer of the README's answer table.</summary>
public static class WebhookEndpoints
{
    public const string Route = "/webhooks/walver";
    private const string TimeoutPolicy = "webhooks";

    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>();
        services.AddSingleton<WebhookInbox>();
        services.AddSingleton<InboxWriter>();
        services.AddScoped<WebhookReceiver>();
        services.AddHostedService<RejectedConnectionsReporter>();
        // A slow or stalled sender must not hold the request open: Walver sends a small body at once.
        services.AddRequestTimeouts(timeouts => timeouts.AddPolicy(TimeoutPolicy, new Microsoft.AspNetCore.Http.Timeouts.RequestTimeoutPolicy
        {
            Timeout = TimeSpan.FromSeconds(10),
            TimeoutStatusCode = StatusCodes.Status408RequestTimeout,
        }));
        services.AddSingleton<WebhookRateLimiter>();
        return services;
    }

    /// <summary>
    /// The listener's own protections, in order: forwarded headers (only when the operator says a TLS proxy
    /// sits in front), then request timeouts; the route's per-IP rate limit (<see cref="WebhookRateLimiter"/>) follows
    /// routing, before the body is read.
    /// </summary>
    public static WebApplication UseWebhookProtection(this WebApplication app)
    {
        // Read from configuration, not options: building the pipeline must not validate settings (PrepareAsync does, all at once).
        if (app.Configuration.GetValue<bool>($"{WebhookOptions.SectionName}:{nameof(WebhookOptions.TrustForwardedHeaders)}"))
        {
            var forwarded = new ForwardedHeadersOptions
            {
                ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto,
                ForwardLimit = 1,
            };
            // Only the proxies the operator names (default: loopback, ASP.NET's own default) are believed; any other
            // peer's X-Forwarded-For is ignored, or every client could pick its own IP for the rate limit and the log.
            if (ListenerLimits.TryParseProxies(ListenerLimits.ConfiguredProxies(app.Configuration), out var addresses, out var networks, out _) &&
                addresses.Count + networks.Count > 0)
            {
                forwarded.KnownIPNetworks.Clear();
                forwarded.KnownProxies.Clear();
                addresses.ForEach(forwarded.KnownProxies.Add);
                networks.ForEach(forwarded.KnownIPNetworks.Add);
            }

            app.UseForwardedHeaders(forwarded);
        }

        app.UseRequestTimeouts();
        return app;
    }

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(Route, ReceiveAsync)
            .AddEndpointFilter((context, next) => context.HttpContext.RequestServices.GetRequiredService<WebhookRateLimiter>().InvokeAsync(context, next))
            .WithRequestTimeout(TimeoutPolicy);
        return endpoints;
    }

    private static async Task<Results<Ok<StatusBody>, JsonHttpResult<ErrorBody>>> ReceiveAsync(
        HttpContext context, WebhookReceiver receiver, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (!IsJson(request.ContentType))
        {
            return Error(StatusCodes.Status415UnsupportedMediaType, "content type must be application/json");
        }

        if (request.ContentLength > WebhookOptions.MaxBodyBytes)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, "body is larger than 64 KiB");
        }

        ReadOnlyMemory<byte>? body;
        try
        {
            body = await ReadBodyAsync(request, cancellationToken);
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's minimum body data rate (240 B/s after a 5 s grace) or a broken chunked body: the client's
            // fault, answered with Kestrel's status (408 for a body that is too slow) and one log line, no stack trace.
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(WebhookEndpoints));
            logger.LogWarning("Refused a webhook from {RemoteAddress}: {Problem} ({Status})",
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown", ex.Message, ex.StatusCode);
            context.Response.Headers.Connection = "close";
            return Error(ex.StatusCode, ex.StatusCode == StatusCodes.Status408RequestTimeout ? "request body was sent too slowly" : "unreadable request body");
        }

        if (body is null)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, "body is larger than 64 KiB");
        }

        var remote = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var result = await receiver.ReceiveAsync(body.Value, remote, cancellationToken);
        return result.Outcome switch
        {
            Acceptance.Accepted => TypedResults.Ok(new StatusBody("accepted")),
            Acceptance.Duplicate => TypedResults.Ok(new StatusBody("duplicate")),
            Acceptance.Malformed => Error(StatusCodes.Status400BadRequest, result.Error!),
            Acceptance.UnknownVerification => Error(StatusCodes.Status404NotFound, result.Error!),
            Acceptance.WrongSecret => Error(StatusCodes.Status401Unauthorized, result.Error!),
            Acceptance.StorageUnavailable => Error(StatusCodes.Status503ServiceUnavailable, result.Error!),
            _ => throw new InvalidOperationException($"unhandled acceptance {result.Outcome}"),
        };
    }

    /// <summary>Reads at most 64 KiB (+1 byte to notice more); null when the body is larger, whatever Content-Length said.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var buffer = new byte[WebhookOptions.MaxBodyBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }

        if (length > WebhookOptions.MaxBodyBytes)
        {
            return null; // (a bare null in a ?: with Memory<byte> would become an empty body, not null)
        }

        return buffer.AsMemory(0, length);
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null &&
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var mediaType) &&
        string.Equals(mediaType.MediaType.Value, MediaTypeNames.Application.Json, StringComparison.OrdinalIgnoreCase);

    private static JsonHttpResult<ErrorBody> Error(int status, string message) => TypedResults.Json(new ErrorBody(message), statusCode: status);
}

public sealed record StatusBody(string Status);

public sealed record ErrorBody(string Error);

internal sealed class WebhookOptionsValidator(IConfiguration configuration) : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        if (!string.IsNullOrEmpty(options.PublicBaseUrl) &&
            (!Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps))
        {
            return ValidateOptionsResult.Fail("Webhook:PublicBaseUrl must be an absolute https:// URL (Walver refuses plain-http webhooks)");
        }

        if (!ListenerLimits.TryParseProxies(ListenerLimits.ConfiguredProxies(configuration), out _, out _, out _))
        {
            // The value is not echoed, like every other setting's: a configured value can hold anything, line breaks included.
            return ValidateOptionsResult.Fail("Webhook:TrustedProxies must be IP addresses or networks such as 10.0.0.5 or 172.16.0.0/12, as a list or separated by commas");
        }

        if (options.MaxConnections < 1)
        {
            return ValidateOptionsResult.Fail("Webhook:MaxConnections must be at least 1");
        }

        if (options.IdleTimeout <= TimeSpan.Zero)
        {
            return ValidateOptionsResult.Fail("Webhook:IdleTimeout must be a positive time span, e.g. 00:00:05");
        }

        if (options.RateLimitPerMinute < 1)
        {
            return ValidateOptionsResult.Fail("Webhook:RateLimitPerMinute must be at least 1");
        }

        return options.MaxEventAge <= TimeSpan.Zero
            ? ValidateOptionsResult.Fail("Webhook:MaxEventAge must be a positive time span, e.g. 24:00:00")
            : ValidateOptionsResult.Success;
    }
}
