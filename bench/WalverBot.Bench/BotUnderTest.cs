using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using WalverBot.Testing.FakeDiscord;

namespace WalverBot.Bench;

/// <summary>The bot as its own process (Release build), on a fixed loopback port, against the fakes.</summary>
public sealed class BotUnderTest : IAsyncDisposable
{
    public const string GuildId = "1200000000000000001";
    public const string RoleId = "1300000000000000010";
    public const string BotRoleId = "1300000000000000050";
    public const string VerificationId = "wb_bench";
    public const string Secret = "bench-secret-0123456789abcdef";

    private readonly Process _process;

    private BotUnderTest(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public int Pid => _process.Id;

    public static void SeedGuild(FakeDiscordServer discord, int members)
    {
        discord.AddGuild(GuildId, "Bench Guild");
        discord.AddRole(GuildId, new FakeRole(RoleId, "Holder", 1, FakeDiscordPermissions.Of(FakeDiscordPermissions.ViewChannel)));
        discord.AddRole(GuildId, new FakeRole(BotRoleId, "WalverBot", 5, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles), Managed: true));
        discord.SetBotRoles(GuildId, BotRoleId);
        for (var i = 0; i < members; i++)
        {
            discord.AddMember(GuildId, new FakeMember(UserId(i), Username(i)));
        }
    }

    public static string UserId(int i) => (1500000000000000000L + i).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Username(int i) => $"member{i:D5}";

    /// <summary>Starts the bot and returns once it is started, with the time from process start to the first /healthz 200.</summary>
    public static async Task<(BotUnderTest Bot, TimeSpan StartToHealthy)> StartAsync(FakeDiscordServer discord, string databasePath, IDictionary<string, string>? extra = null)
    {
        var port = FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "WalverBot.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["Discord__Token"] = discord.Token;
        start.Environment["Discord__ApiBaseUrl"] = discord.ApiBaseUrl;
        start.Environment["ConnectionStrings__WalverBot"] = $"Data Source={databasePath}";
        start.Environment["Urls"] = baseUrl;
        start.Environment["Webhook__RateLimitPerMinute"] = "100000000";
        start.Environment["Security__Signatures"] = "Off";
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        start.Environment["Verifications__0__Id"] = VerificationId;
        start.Environment["Verifications__0__GuildId"] = GuildId;
        start.Environment["Verifications__0__RoleId"] = RoleId;
        start.Environment["Verifications__0__Secret"] = Secret;
        start.Environment["Verifications__0__Chain"] = "ethereum";
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var clock = Stopwatch.StartNew();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"  bot: {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        while (true)
        {
            try
            {
                using var response = await http.GetAsync($"{baseUrl}/healthz");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return (new BotUnderTest(process, baseUrl), clock.Elapsed);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or a loaded machine took longer than the probe's 1 s: ask again.
            }

            if (process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException($"the bot did not become healthy (exited: {process.HasExited})");
            }

            await Task.Delay(5);
        }
    }

    /// <summary>Resident set size of the bot process, from /proc.</summary>
    public long RssBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
