using System.Collections.Concurrent;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WalverBot.Testing.Http;

namespace WalverBot.Testing.Chains;

/// <summary>
/// A Solana JSON-RPC node on 127.0.0.1 answering as https://solana.com/docs/rpc shows: getTokenAccountsByOwner (mint
/// filter, jsonParsed), getBalance, getSlot, getHealth, single requests and batches (JSON arrays), JSON-RPC error
/// objects (-32602 invalid params, -32016 minimum context slot not reached, -32005 unhealthy) and HTTP faults (429 with
/// Retry-After, 5xx) on demand. The RPC path can hold a fake API key, as providers' URLs do. Beside it, the PubSub
/// WebSocket (<see cref="WsUrl"/>, FakeSolanaRpc.PubSub.cs).
/// </summary>
public sealed partial class FakeSolanaRpc : IAsyncDisposable
{
    public const string TokenProgram = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ulong> _lamports = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ulong> _slotFor = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (int Code, string Message)> _walletErrors = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(int Status, string? RetryAfter)> _httpFaults = new();
    private readonly ConcurrentQueue<string> _bodies = new();
    private readonly ConcurrentQueue<ulong> _minContextSlots = new();
    private readonly List<TokenAccount> _accounts = [];
    private readonly Lock _gate = new();
    private int _accountsAdded;
    private int _httpRequests;

    private FakeSolanaRpc(WebApplication app, Uri rpcUrl, Uri wsUrl)
    {
        _app = app;
        RpcUrl = rpcUrl;
        WsUrl = wsUrl;
    }

    public Uri RpcUrl { get; }

    /// <summary>The PubSub WebSocket: ws://127.0.0.1:port{wsPath}.</summary>
    public Uri WsUrl { get; }

    /// <summary>The slot every answer's context carries, unless <see cref="SetSlotFor"/> says otherwise for a wallet.</summary>
    public ulong Slot { get; set; } = 250_000_000;

    /// <summary>HTTP requests received (a batch is one).</summary>
    public int HttpRequests => Volatile.Read(ref _httpRequests);

    /// <summary>Request bodies as received, in order.</summary>
    public IReadOnlyList<string> Bodies => [.. _bodies];

    public IReadOnlyList<ulong> MinContextSlots => [.. _minContextSlots];

    /// <summary>Answers getHealth with -32005 (node behind) instead of "ok".</summary>
    public bool Unhealthy { get; set; }

    public static async Task<FakeSolanaRpc> StartAsync(string path = "/", string wsPath = "/ws")
    {
        FakeSolanaRpc? fake = null;
        var (app, baseAddress) = await FakeLoopbackHost.StartAsync(app =>
        {
            app.UseWebSockets();
            app.Map(wsPath, (HttpContext context) => fake!.HandleWebSocketAsync(context));
            app.MapPost(path, (HttpContext context) => fake!.HandleAsync(context));
        });
        var ws = new UriBuilder(new Uri(baseAddress, wsPath.TrimStart('/'))) { Scheme = "ws" }.Uri;
        fake = new FakeSolanaRpc(app, new Uri(baseAddress, path.TrimStart('/')), ws);
        return fake;
    }

    /// <summary>
    /// Adds a token account of <paramref name="owner"/> for <paramref name="mint"/>; returns its pubkey (base58, 32 bytes,
    /// as on chain). Each call gives a new address, as an account created at a new keypair has: numbered by the count of
    /// open accounts, a wallet's account opened after its only one was closed got the closed one's address, and a test
    /// that waited for the bot to subscribe to "the new account" saw the old subscription instead.
    /// </summary>
    public string AddTokenAccount(string owner, string mint, BigInteger amount, int decimals)
    {
        lock (_gate)
        {
            var pubkey = SimpleBase.Base58.Bitcoin.Encode(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{owner}/{mint}/{_accountsAdded++}")));
            _accounts.Add(new TokenAccount(pubkey, owner, mint, amount, decimals));
            return pubkey;
        }
    }

    /// <summary>The pubkeys of <paramref name="owner"/>'s token accounts of <paramref name="mint"/>.</summary>
    public IReadOnlyList<string> TokenAccountsOf(string owner, string mint)
    {
        lock (_gate)
        {
            return [.. _accounts.Where(a => a.Owner == owner && a.Mint == mint).Select(a => a.Pubkey)];
        }
    }

    public void SetLamports(string owner, ulong lamports) => _lamports[owner] = lamports;

    public void SetSlotFor(string owner, ulong slot) => _slotFor[owner] = slot;

    /// <summary>Every request about <paramref name="owner"/> answers this JSON-RPC error.</summary>
    public void FailWallet(string owner, int code, string message) => _walletErrors[owner] = (code, message);

    /// <summary>The next HTTP request answers <paramref name="status"/> (e.g. 429 with Retry-After, 503).</summary>
    public void FailNextHttp(int status, string? retryAfter = null, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            _httpFaults.Enqueue((status, retryAfter));
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _httpRequests);
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        _bodies.Enqueue(body);
        if (_httpFaults.TryDequeue(out var fault))
        {
            context.Response.StatusCode = fault.Status;
            if (fault.RetryAfter is not null)
            {
                context.Response.Headers.RetryAfter = fault.RetryAfter;
            }

            await context.Response.WriteAsync(fault.Status == 429 ? "Too many requests for a specific RPC call" : "<html>bad gateway</html>");
            return;
        }

        JsonNode? request;
        try
        {
            request = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            await WriteAsync(context, Error(null, -32700, "Parse error"));
            return;
        }

        JsonNode answer = request is JsonArray batch
            ? new JsonArray([.. batch.Select(r => Answer(r as JsonObject))])
            : Answer(request as JsonObject);
        await WriteAsync(context, answer);
    }

    private JsonObject Answer(JsonObject? request)
    {
        var id = request?["id"]?.DeepClone();
        var method = request?["method"]?.GetValue<string>();
        var parameters = request?["params"] as JsonArray ?? [];
        return method switch
        {
            "getSlot" => Result(id, Slot),
            "getHealth" => Unhealthy ? Error(id, -32005, "Node is unhealthy", new JsonObject()) : Result(id, "ok"),
            "getBalance" => WalletAnswer(id, parameters, configIndex: 1, (owner, slot) => Context(slot, _lamports.GetValueOrDefault(owner))),
            "getTokenAccountsByOwner" => WalletAnswer(id, parameters, configIndex: 2, (owner, slot) => TokenAccounts(owner, parameters, slot)),
            null => Error(id, -32600, "Invalid request"),
            _ => Error(id, -32601, "Method not found"),
        };
    }

    private JsonObject WalletAnswer(JsonNode? id, JsonArray parameters, int configIndex, Func<string, ulong, JsonNode> value)
    {
        if (parameters.Count == 0 || parameters[0] is not JsonValue ownerValue || !ownerValue.TryGetValue<string>(out var owner) || owner.Length is < 32 or > 44)
        {
            return Error(id, -32602, "Invalid param: Invalid");
        }

        if (_walletErrors.TryGetValue(owner, out var walletError))
        {
            return Error(id, walletError.Code, walletError.Message);
        }

        var slot = _slotFor.TryGetValue(owner, out var special) ? special : Slot;
        if (parameters.Count > configIndex && parameters[configIndex]?["minContextSlot"] is JsonValue min && min.TryGetValue<ulong>(out var minSlot))
        {
            _minContextSlots.Enqueue(minSlot);
            if (minSlot > slot)
            {
                return Error(id, -32016, "Minimum context slot has not been reached", new JsonObject { ["contextSlot"] = slot });
            }
        }

        if (parameters.Count > 1 && parameters[1] is JsonObject filter && configIndex == 2 && filter["mint"] is null && filter["programId"] is null)
        {
            return Error(id, -32602, "Invalid param: missing mint or programId filter");
        }

        return Result(id, value(owner, slot));
    }

    private JsonObject TokenAccounts(string owner, JsonArray parameters, ulong slot)
    {
        var mint = parameters[1]?["mint"]?.GetValue<string>();
        var encoding = parameters.Count > 2 ? parameters[2]?["encoding"]?.GetValue<string>() : null;
        List<TokenAccount> accounts;
        lock (_gate)
        {
            accounts = [.. _accounts.Where(a => a.Owner == owner && (mint is null || a.Mint == mint))];
        }

        var value = new JsonArray();
        foreach (var account in accounts)
        {
            JsonNode data = encoding == "jsonParsed"
                ? new JsonObject
                {
                    ["program"] = "spl-token",
                    ["parsed"] = new JsonObject
                    {
                        ["info"] = new JsonObject
                        {
                            ["isNative"] = false,
                            ["mint"] = account.Mint,
                            ["owner"] = account.Owner,
                            ["state"] = "initialized",
                            ["tokenAmount"] = new JsonObject
                            {
                                ["amount"] = account.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                                ["decimals"] = account.Decimals,
                                ["uiAmount"] = (double)account.Amount / Math.Pow(10, account.Decimals),
                                ["uiAmountString"] = ((decimal)account.Amount / (decimal)Math.Pow(10, account.Decimals)).ToString(System.Globalization.CultureInfo.InvariantCulture),
                            },
                        },
                        ["type"] = "account",
                    },
                    ["space"] = 165,
                }
                : new JsonArray("AAAA", "base64");
            value.Add(new JsonObject
            {
                ["pubkey"] = account.Pubkey,
                ["account"] = new JsonObject
                {
                    ["data"] = data,
                    ["executable"] = false,
                    ["lamports"] = 2039280,
                    ["owner"] = TokenProgram,
                    ["rentEpoch"] = 18446744073709551615UL,
                    ["space"] = 165,
                },
            });
        }

        return Context(slot, value);
    }

    private static JsonObject Context(ulong slot, JsonNode? value) => new()
    {
        ["context"] = new JsonObject { ["apiVersion"] = "2.0.15", ["slot"] = slot },
        ["value"] = value,
    };

    private static JsonObject Result(JsonNode? id, JsonNode? result) => new() { ["jsonrpc"] = "2.0", ["result"] = result, ["id"] = id };

    private static JsonObject Error(JsonNode? id, int code, string message, JsonNode? data = null)
    {
        var error = new JsonObject { ["code"] = code, ["message"] = message };
        if (data is not null)
        {
            error["data"] = data;
        }

        return new JsonObject { ["jsonrpc"] = "2.0", ["error"] = error, ["id"] = id };
    }

    private static async Task WriteAsync(HttpContext context, JsonNode answer)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed record TokenAccount(string Pubkey, string Owner, string Mint, BigInteger Amount, int Decimals);
}
