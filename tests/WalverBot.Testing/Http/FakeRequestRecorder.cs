using Microsoft.AspNetCore.Http;

namespace WalverBot.Testing.Http;

/// <summary>Thread-safe log of requests a fake received.</summary>
internal sealed class FakeRequestRecorder(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly List<FakeRecordedRequest> _requests = [];

    public IReadOnlyList<FakeRecordedRequest> Snapshot()
    {
        lock (_gate)
        {
            return [.. _requests];
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _requests.Clear();
        }
    }

    public async Task<FakeRecordedRequest> RecordAsync(HttpContext context)
    {
        string body;
        using (var reader = new StreamReader(context.Request.Body))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in context.Request.Headers)
        {
            headers[name] = value.ToString();
        }

        var request = new FakeRecordedRequest
        {
            Method = context.Request.Method,
            Path = context.Request.Path.Value ?? "/",
            Query = context.Request.QueryString.Value ?? "",
            Headers = headers,
            Body = body,
            Timestamp = time.GetUtcNow(),
        };

        lock (_gate)
        {
            _requests.Add(request);
        }

        return request;
    }
}
