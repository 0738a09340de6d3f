extern alias bot;

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Nethereum.Util;
using WalverBot.Holdings;
using WalverBot.Storage;
using WalverBot.Testing.Chains;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Verifications;

namespace WalverBot.Bench;

/// <summary>
/// One re-check pass over many linked wallets of one ERC-20 verification, through the real engine and EVM reader on
/// anvil, in this process (so the engine can be driven directly). The wallets are seeded straight into the holdings
/// tables and funded with anvil_setStorageAt on the token's balances mapping; a loopback proxy counts the RPC requests.
/// </summary>
public static class RecheckBench
{
    private const string VerificationId = "wb_recheck";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <param name="loadedRuns">Extra passes run while webhooks arrive (8 connections), after an idle load window of the same kind.</param>
    public static async Task RunAsync(int wallets, int runs, int loadedRuns, string folder, Action<string> line)
    {
        await using var node = await AnvilNode.StartAsync();
        var token = await node.DeployErc20Async("Bench Token", "BNCH");
        var slot = await BalancesSlotAsync(node, token);
        var addresses = Enumerable.Range(0, wallets).Select(Address).ToArray();
        var fund = Stopwatch.StartNew();
        await FundAsync(node, token, slot, addresses, BigInteger.Pow(10, 18) * 5);
        line($"recheck: {wallets} wallets funded with 5 BNCH each by anvil_setStorageAt (balances slot {slot}) in {fund.Elapsed.TotalSeconds:0.0} s");

        await using var proxy = CountingProxy.Start(node.RpcUrl);
        var discord = await FakeDiscordServer.StartAsync();
        await using var gateway = await FakeGatewayServer.StartAsync(discord, new FakeGatewayOptions { HeartbeatIntervalMs = 41_250 });
        BotUnderTest.SeedGuild(discord, 1000);
        discord.SetRateLimit(FakeDiscordBuckets.MemberRoles, 100_000, TimeSpan.FromSeconds(1));
        discord.SetRateLimit(FakeDiscordBuckets.MemberSearch, 100_000, TimeSpan.FromSeconds(1));
        var settings = new Dictionary<string, string>
        {
            ["Discord:Token"] = discord.Token,
            ["Discord:ApiBaseUrl"] = discord.ApiBaseUrl,
            ["ConnectionStrings:WalverBot"] = $"Data Source={Path.Combine(folder, "recheck.db")}",
            ["Urls"] = "http://127.0.0.1:0",
            ["Webhook:PublicBaseUrl"] = "https://bot.example.test",
            ["Chains:ethereum:RpcUrl"] = proxy.Url,
            ["Logging:LogLevel:Default"] = "Warning",
            // An ungated verification for the webhook load: its grants need no chain read.
            ["Security:Signatures"] = "Off",
            ["Webhook:RateLimitPerMinute"] = "100000000",
            ["Verifications:0:Id"] = BotUnderTest.VerificationId,
            ["Verifications:0:GuildId"] = BotUnderTest.GuildId,
            ["Verifications:0:RoleId"] = BotUnderTest.RoleId,
            ["Verifications:0:Secret"] = BotUnderTest.Secret,
            ["Verifications:0:Chain"] = "ethereum",
        };
        var app = bot::Program.BuildApp([.. settings.Select(p => $"--{p.Key}={p.Value}")], builder =>
        {
            // The bench runs the passes; the bot's own worker would race it for the same wallets.
            builder.Services.Remove(builder.Services.Single(d => d.ImplementationType == typeof(RecheckWorker)));
            // The transfer follower has its own bench (FollowerBench); here it would only add its polling to the counts.
            builder.Services.Remove(builder.Services.Single(d => d.ImplementationType == typeof(WalverBot.Following.FollowerWorker)));
        });
        await bot::Program.PrepareAsync(app);
        await app.StartAsync();
        try
        {
            var verification = new Verification
            {
                Id = VerificationId,
                GuildId = ulong.Parse(BotUnderTest.GuildId, Inv),
                RoleId = ulong.Parse(BotUnderTest.RoleId, Inv),
                SecretHash = SecretHasher.Hash(BotUnderTest.Secret),
                Chain = "ethereum",
                TokenAddress = token,
                TokenStandard = TokenStandards.Erc20,
                MinAmount = 1m,
                Source = "command",
            };
            await app.Services.GetRequiredService<VerificationStore>().UpsertAsync(verification);
            var seed = Stopwatch.StartNew();
            await using (var connection = await app.Services.GetRequiredService<Database>().OpenAsync())
            await using (var transaction = await connection.BeginTransactionAsync())
            {
                var role = new HashSet<ulong> { verification.RoleId };
                for (var i = 0; i < wallets; i++)
                {
                    await HoldingsStore.RecordGrantAsync(connection, transaction, verification, 1_600_000_000_000_000_000UL + (ulong)i, addresses[i],
                        [], role, DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
                }

                await transaction.CommitAsync();
            }

            line($"recheck: {wallets} wallets linked to {wallets} members seeded in {seed.Elapsed.TotalSeconds:0.0} s");
            var rows = new List<(double Seconds, long Requests, long Calls, double PeakMb, int Checked)>();
            for (var run = 0; run < runs; run++)
            {
                proxy.Reset();
                GC.Collect();
                ResetPeakRss();
                var watch = Stopwatch.StartNew();
                PassResult pass;
                using (var scope = app.Services.CreateScope())
                {
                    pass = await scope.ServiceProvider.GetRequiredService<RecheckEngine>().RunAsync(verification, new PassOptions(Manual: true), null, CancellationToken.None);
                }

                watch.Stop();
                if (pass.PausedReason is not null || pass.Removed.Count > 0 || pass.Checked != wallets)
                {
                    throw new InvalidOperationException($"the pass did not read every wallet cleanly: checked {pass.Checked}, removed {pass.Removed.Count}, paused: {pass.PausedReason}");
                }

                rows.Add((watch.Elapsed.TotalSeconds, proxy.Requests, proxy.Calls, PeakRssMb(), pass.Checked));
                line($"recheck run {run + 1}: {pass.Checked} wallets in {watch.Elapsed.TotalSeconds:0.00} s; {proxy.Requests} HTTP requests to the RPC ({proxy.Calls} JSON-RPC calls), " +
                     $"{pass.Checked / (double)Math.Max(1, proxy.Requests):0} wallets per request; peak RSS of the process during the pass {rows[^1].PeakMb:0} MB");
            }

            if (loadedRuns > 0)
            {
                await LoadedPassesAsync(app, verification, wallets, loadedRuns, line);
            }

            if (runs == 0)
            {
                return;
            }

            line($"recheck: median of {runs}: {Median(rows.Select(r => r.Seconds)):0.00} s for {wallets} wallets, {Median(rows.Select(r => (double)r.Requests)):0} requests " +
                 $"({wallets / Median(rows.Select(r => (double)r.Requests)):0} wallets per request; goal ≥ 500), peak RSS {Median(rows.Select(r => r.PeakMb)):0} MB");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            await discord.DisposeAsync();
        }
    }

    private static async Task LoadedPassesAsync(WebApplication app, Verification verification, int wallets, int passes, Action<string> line)
    {
        var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
            .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!;
        var baseUrl = addresses.Addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal);
        var next = 0;
        HttpRequestMessage Hook(int _)
        {
            var n = Interlocked.Increment(ref next);
            var body = WalverBot.Testing.FakeWalver.FakeWalverWebhook.For(BotUnderTest.VerificationId).WithDiscord(BotUnderTest.Username(n % 1000))
                .WithSecret(BotUnderTest.Secret).WithChain("ethereum").WithWallet($"0x{n:x40}").WithSignature($"0x{n:x130}").ToString();
            return new HttpRequestMessage(HttpMethod.Post, $"{baseUrl}/webhooks/walver") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        }

        using var http = Load.Client(8);
        await Load.RunAsync("warm", http, 8, TimeSpan.FromSeconds(3), Hook, s => s == HttpStatusCode.OK);
        var idle = await Load.RunAsync("idle", http, 8, TimeSpan.FromSeconds(20), Hook, s => s == HttpStatusCode.OK);
        line($"recheck: webhooks with no pass running: {idle.PerSecond:0} accepted/s, p99 {idle.Percentile(99):0.0} ms, {idle.Failures} not 200 (20 s, 8 connections)");
        for (var run = 0; run < passes; run++)
        {
            var watch = Stopwatch.StartNew();
            var passing = Task.Run(async () =>
            {
                using var scope = app.Services.CreateScope();
                return await scope.ServiceProvider.GetRequiredService<RecheckEngine>().RunAsync(verification, new PassOptions(Manual: true), null, CancellationToken.None);
            });
            // Two windows: the first ~40 s of a 100,000-wallet pass are reads, the rest is the apply phase's commits.
            var early = await Load.RunAsync("pass-early", http, 8, TimeSpan.FromSeconds(30), Hook, s => s == HttpStatusCode.OK);
            var late = await Load.RunAsync("pass-late", http, 8, TimeSpan.FromSeconds(30), Hook, s => s == HttpStatusCode.OK);
            var stillRunning = !passing.IsCompleted;
            var pass = await passing;
            line($"recheck under load {run + 1}: pass of {pass.Checked} wallets in {watch.Elapsed.TotalSeconds:0.0} s (removed {pass.Removed.Count}, paused: {pass.PausedReason ?? "no"}); " +
                 $"webhooks 0-30 s: {early.PerSecond:0} accepted/s, p99 {early.Percentile(99):0.0} ms, {early.Failures} not 200; " +
                 $"30-60 s: {late.PerSecond:0} accepted/s, p99 {late.Percentile(99):0.0} ms, {late.Failures} not 200; pass still running at 60 s: {stillRunning}");
            if (pass.Checked != wallets)
            {
                throw new InvalidOperationException($"the loaded pass read {pass.Checked} of {wallets} wallets");
            }
        }
    }

    internal static string Address(int i) => "0x" + (0xbe00000000UL + (ulong)i).ToString("x40", Inv);

    /// <summary>
    /// Solidity stores mapping(address => uint256) entry k of the mapping at slot p at keccak256(pad32(k) ++ pad32(p))
    /// (Solidity docs, "Layout of State Variables in Storage: Mappings"). The slot index is found by probing a minted balance.
    /// </summary>
    private static string StorageKey(string address, int slot)
    {
        var key = new byte[64];
        Convert.FromHexString(address[2..]).CopyTo(key, 12);
        key[63] = (byte)slot;
        return "0x" + Convert.ToHexString(Sha3Keccack.Current.CalculateHash(key)).ToLowerInvariant();
    }

    internal static async Task<int> BalancesSlotAsync(AnvilNode node, string token)
    {
        var probe = node.Accounts[1];
        await node.MintErc20Async(token, probe, 12345);
        for (var slot = 0; slot < 16; slot++)
        {
            var value = await node.Web3.Eth.GetStorageAt.SendRequestAsync(token, new Nethereum.Hex.HexTypes.HexBigInteger(BigInteger.Parse(StorageKey(probe, slot)[2..], NumberStyles.HexNumber)));
            if (value is not null && BigInteger.Parse("0" + value[2..], NumberStyles.HexNumber) == 12345)
            {
                return slot;
            }
        }

        throw new InvalidOperationException("the ERC-20's balances mapping was not found in slots 0-15");
    }

    internal static async Task FundAsync(AnvilNode node, string token, int slot, string[] addresses, BigInteger amount)
    {
        var value = "0x" + amount.ToString("x64", Inv).TrimStart('0').PadLeft(64, '0');
        using var http = new HttpClient();
        foreach (var chunk in addresses.Chunk(1000))
        {
            var batch = chunk.Select((a, i) => new { jsonrpc = "2.0", id = i, method = "anvil_setStorageAt", @params = new object[] { token, StorageKey(a, slot), value } });
            using var response = await http.PostAsync(node.RpcUrl, new StringContent(JsonSerializer.Serialize(batch), Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode || body.Contains("\"error\"", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"anvil_setStorageAt failed: {body[..Math.Min(300, body.Length)]}");
            }
        }
    }

    /// <summary>Resets VmHWM (peak RSS) to the current RSS: writing 5 to clear_refs (Linux proc(5)).</summary>
    private static void ResetPeakRss() => File.WriteAllText("/proc/self/clear_refs", "5");

    private static double PeakRssMb()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], Inv) / 1024.0;
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>A loopback HTTP proxy in front of anvil that counts requests and the JSON-RPC calls in them.</summary>
    internal sealed class CountingProxy : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly HttpClient _http = new();
        private readonly Uri _target;
        private readonly Task _loop;
        private long _requests;
        private long _calls;

        private CountingProxy(Uri target, int port)
        {
            _target = target;
            Url = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public string Url { get; }
        public long Requests => Interlocked.Read(ref _requests);
        public long Calls => Interlocked.Read(ref _calls);

        public static CountingProxy Start(Uri target)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return new CountingProxy(target, port);
        }

        public void Reset()
        {
            Interlocked.Exchange(ref _requests, 0);
            Interlocked.Exchange(ref _calls, 0);
        }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(() => ForwardAsync(context));
            }
        }

        private async Task ForwardAsync(HttpListenerContext context)
        {
            using var reader = new StreamReader(context.Request.InputStream);
            var body = await reader.ReadToEndAsync();
            Interlocked.Increment(ref _requests);
            using (var json = JsonDocument.Parse(body))
            {
                Interlocked.Add(ref _calls, json.RootElement.ValueKind == JsonValueKind.Array ? json.RootElement.GetArrayLength() : 1);
            }

            using var response = await _http.PostAsync(_target, new StringContent(body, Encoding.UTF8, "application/json"));
            var answer = await response.Content.ReadAsByteArrayAsync();
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(answer);
            context.Response.Close();
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _loop;
            _http.Dispose();
        }
    }
}
