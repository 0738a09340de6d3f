using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WalverBot.Operations;
using WalverBot.SolanaRealTime;
using WalverBot.Testing.Chains;

namespace WalverBot.Tests.SolanaRealTime;

/// <summary>The PubSub messages as Solana's docs show them, the WsUrl setting, redaction, and the <c>check</c> line.</summary>
public sealed class SolanaPubSubTests
{
    [Fact]
    public void The_documented_account_notification_is_read_with_its_subscription_slot_and_lamports()
    {
        // https://solana.com/docs/rpc/websocket/accountsubscribe, notification format.
        const string documented = """
            {"jsonrpc":"2.0","method":"accountNotification","params":{"result":{"context":{"slot":5199307},"value":{
              "data":["11116bv5nS2h3y12kD1yUKeMZvGcKLSjQgX6BeV7u1FrjeJcKfsHPXHRDEHrBesJhZyqnnq9qJeUuF7WHxiuLuL5twc38w2TXNLxnDbjmuR","base58"],
              "executable":false,"lamports":33594,"owner":"11111111111111111111111111111111","rentEpoch":635,"space":80}},"subscription":23784}}
            """;

        var message = SolanaPubSub.Parse(Encoding.UTF8.GetBytes(documented));

        Assert.Equal(new PubSubMessage.AccountNotification(23784, 5199307, 33594), message);
    }

    [Fact]
    public void Answers_errors_and_anything_else_are_told_apart()
    {
        var answer = Assert.IsType<PubSubMessage.Answer>(SolanaPubSub.Parse("""{"jsonrpc":"2.0","result":23784,"id":1}"""u8));
        Assert.Equal(1, answer.Id);
        Assert.Equal(23784UL, answer.Result.GetUInt64());
        Assert.True(Assert.IsType<PubSubMessage.Answer>(SolanaPubSub.Parse("""{"jsonrpc":"2.0","result":true,"id":2}"""u8)).Result.GetBoolean());
        Assert.Equal(new PubSubMessage.Error(3, -32602, "Invalid param: Invalid"),
            SolanaPubSub.Parse("""{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid param: Invalid"},"id":3}"""u8));
        Assert.IsType<PubSubMessage.Other>(SolanaPubSub.Parse("""{"jsonrpc":"2.0","method":"slotNotification","params":{"result":{"slot":1},"subscription":4}}"""u8));
        Assert.IsType<PubSubMessage.Other>(SolanaPubSub.Parse("not json"u8));
        Assert.IsType<PubSubMessage.Other>(SolanaPubSub.Parse("[1,2]"u8));
        Assert.IsType<PubSubMessage.Other>(SolanaPubSub.Parse("""{"method":"accountNotification","params":{"subscription":"x"}}"""u8));
    }

    [Fact]
    public void Subscribe_and_unsubscribe_are_sent_as_documented()
    {
        var subscribe = JsonNode.Parse(SolanaPubSub.Subscribe(7, "CM78CPUeXjn8o3yroDHxUtKsZZgoy4GPkPPXfouKNH12"))!;
        Assert.Equal("""{"jsonrpc":"2.0","id":7,"method":"accountSubscribe","params":["CM78CPUeXjn8o3yroDHxUtKsZZgoy4GPkPPXfouKNH12",{"encoding":"base64","commitment":"confirmed"}]}""",
            subscribe.ToJsonString());
        Assert.Equal("""{"jsonrpc":"2.0","id":8,"method":"accountUnsubscribe","params":[23784]}""", SolanaPubSub.Unsubscribe(8, 23784));
    }

    [Theory]
    [InlineData("https://mainnet.example-rpc.test/ws-key-123", "ws:// or wss:// URL")]
    [InlineData("mainnet.example-rpc.test/ws-key-123", "ws:// or wss:// URL")]
    public void A_ws_url_that_is_not_a_websocket_url_is_one_line_naming_the_key_without_its_value(string value, string fragment)
    {
        var options = Read(new() { ["Chains:solana:RpcUrl"] = "https://rpc.example.test/", ["Chains:solana:WsUrl"] = value });

        var problem = Assert.Single(options.Problems);
        Assert.StartsWith("Chains:solana:WsUrl must be", problem, StringComparison.Ordinal);
        Assert.Contains(fragment, problem, StringComparison.Ordinal);
        Assert.DoesNotContain("ws-key-123", problem, StringComparison.Ordinal);
        Assert.Null(options.WsUrl);
    }

    [Fact]
    public void A_ws_url_needs_the_rpc_url_and_without_a_ws_url_real_time_is_off()
    {
        Assert.Contains("needs Chains:solana:RpcUrl", Assert.Single(Read(new() { ["Chains:solana:WsUrl"] = "wss://ws.example.test/k" }).Problems), StringComparison.Ordinal);
        var off = Read(new() { ["Chains:solana:RpcUrl"] = "https://rpc.example.test/" });
        Assert.Empty(off.Problems);
        Assert.Null(off.WsUrl);
        var on = Read(new() { ["Chains:Solana:RpcUrl"] = "https://rpc.example.test/", ["Chains:Solana:WsUrl"] = " wss://ws.example.test:8900/v1/k3y " });
        Assert.Empty(on.Problems);
        Assert.Equal("wss://ws.example.test:8900", on.SafeName);
    }

    [Fact]
    public void Redact_takes_the_url_path_and_query_out_of_an_error_text()
    {
        var url = new Uri("wss://user:pw@ws.example.test/v1/k3y?api-key=s3cret");

        var text = SolanaSubscriber.Redact($"Unable to connect to {url.OriginalString} (path {url.PathAndQuery}, query {url.Query})", url);

        Assert.DoesNotContain("k3y", text, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", text, StringComparison.Ordinal);
        Assert.Contains("wss://ws.example.test", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_says_whether_the_endpoint_answers_accountSubscribe_without_showing_the_key()
    {
        await using var rpc = await FakeSolanaRpc.StartAsync("/rpc/k3y-abc", "/ws/k3y-abc");
        using var services = Services(rpc.WsUrl, rpc.RpcUrl);
        var output = new StringWriter();

        await SolanaSubscriptionCheck.CheckAsync(services, new CheckReport(output), CancellationToken.None);
        rpc.RefuseWebSockets = true;
        await SolanaSubscriptionCheck.CheckAsync(services, new CheckReport(output), CancellationToken.None);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"ok    chain solana real time: ws://127.0.0.1:{rpc.WsUrl.Port} answers accountSubscribe", lines[0], StringComparison.Ordinal);
        Assert.StartsWith($"warn  chain solana real time: ws://127.0.0.1:{rpc.WsUrl.Port} does not answer accountSubscribe (", lines[1], StringComparison.Ordinal);
        Assert.Contains("503", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain("k3y-abc", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(["TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"], rpc.UnsubscribedAccounts); // the probe cleaned up after itself
    }

    private static SolanaSubscriptionOptions Read(Dictionary<string, string?> settings)
    {
        var options = new SolanaSubscriptionOptions();
        SolanaSubscriptionOptions.Read(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), options);
        return options;
    }

    private static ServiceProvider Services(Uri ws, Uri rpc)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Chains:solana:RpcUrl"] = rpc.ToString(),
            ["Chains:solana:WsUrl"] = ws.ToString(),
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddMetrics();
        services.AddSolanaRealTime();
        return services.BuildServiceProvider();
    }
}
