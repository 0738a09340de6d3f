using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace WalverBot.Testing.Http;

/// <summary>
/// The request pipeline every HTTP fake shares: record each request on arrival (time, headers, body),
/// answer every request during an outage, apply scripted faults, record the status answered and wake
/// waiters. Each fake supplies what its service answers during an outage and on a scripted 429.
/// </summary>
internal sealed class FakeHttpPipeline
{
    private static readonly object AbortedKey = new();
    private readonly Func<int, (string Body, string ContentType)> _outage;

    public FakeHttpPipeline(TimeProvider time, Func<int, (string Body, string ContentType)> outage)
    {
        _outage = outage;
        Recorder = new FakeRequestRecorder(time, Signal);
    }

    public FakeSignal Signal { get; } = new();

    public FakeRequestRecorder Recorder { get; }

    public FakeFaultPlan Faults { get; } = new();

    /// <summary>Middleware: records, answers an outage, runs the fake, then records the status (null when the connection was aborted).</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var request = await Recorder.RecordAsync(context).ConfigureAwait(false);
        int? status = null;
        try
        {
            if (Faults.OutageStatus is int down)
            {
                var (body, contentType) = _outage(down);
                await WriteAsync(context, down, body, contentType).ConfigureAwait(false);
            }
            else
            {
                await next(context).ConfigureAwait(false);
            }

            status = context.Items.ContainsKey(AbortedKey) ? null : context.Response.StatusCode;
        }
        finally
        {
            Recorder.Answered(request, status);
        }
    }

    /// <summary>
    /// Applies the scripted faults queued for this request (delays first, then at most one answer).
    /// True when a fault answered or aborted the request, so the fake must not handle it.
    /// </summary>
    public async Task<bool> TryFaultAsync(HttpContext context, string path, Func<FakeRateLimitFault, Task> rateLimited)
    {
        var taken = new HashSet<object>(ReferenceEqualityComparer.Instance);
        while (Faults.TryTake(context.Request.Method, path, taken, out var fault))
        {
            switch (fault)
            {
                case FakeDelayFault delay:
                    await Task.Delay(delay.Duration, context.RequestAborted).ConfigureAwait(false);
                    continue;
                case FakeHoldFault hold:
                    await hold.Released.WaitAsync(context.RequestAborted).ConfigureAwait(false);
                    continue;
                case FakeAbortFault:
                    context.Items[AbortedKey] = true;
                    context.Abort();
                    return true;
                case FakeStatusFault status:
                    await WriteAsync(context, status.StatusCode, status.Body, status.ContentType).ConfigureAwait(false);
                    return true;
                case FakeRateLimitFault limit:
                    context.Response.Headers.RetryAfter = Math.Ceiling(limit.RetryAfterSeconds).ToString(CultureInfo.InvariantCulture);
                    await rateLimited(limit).ConfigureAwait(false);
                    return true;
            }
        }

        return false;
    }

    public static async Task WriteAsync(HttpContext context, int status, string body, string contentType)
    {
        context.Response.StatusCode = status;
        if (body.Length > 0)
        {
            context.Response.ContentType = contentType;
            await context.Response.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
