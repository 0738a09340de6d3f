namespace WalverBot.Operations;

/// <summary>
/// <c>WalverBot --health [url]</c>: GETs <c>/healthz</c> of the bot running in this container and exits 0 on 200,
/// 1 otherwise. Docker's HEALTHCHECK uses it, so the runtime image needs no curl. The address comes from the argument,
/// else from <c>Urls</c> (a wildcard host becomes 127.0.0.1), else http://127.0.0.1:8080.
/// </summary>
public static class HealthProbe
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(string? url, IConfiguration configuration, TextWriter output)
    {
        var target = url is not null ? new Uri(new Uri(url), "/healthz") : new Uri(BaseUrl(configuration["Urls"]), "/healthz");
        using var http = new HttpClient { Timeout = Timeout };
        try
        {
            using var response = await http.GetAsync(target);
            output.WriteLine($"{target}: {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? OperatorCommands.Success : OperatorCommands.Failure;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            output.WriteLine($"{target}: {ex.Message}");
            return OperatorCommands.Failure;
        }
    }

    internal static Uri BaseUrl(string? urls)
    {
        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase));
        if (first is null)
        {
            return new Uri("http://127.0.0.1:8080");
        }

        // Kestrel's wildcards (0.0.0.0, [::], *, +) are not addresses to connect to.
        var rewritten = System.Text.RegularExpressions.Regex.Replace(first, @"^http://(0\.0\.0\.0|\[::\]|\*|\+)(?=[:/]|$)", "http://127.0.0.1", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        return new Uri(rewritten);
    }
}
