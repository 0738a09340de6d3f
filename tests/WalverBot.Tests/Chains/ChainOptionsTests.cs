using Microsoft.Extensions.Configuration;
using WalverBot.Chains;

namespace WalverBot.Tests.Chains;

public sealed class ChainOptionsTests
{
    private static ChainsOptions Read(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();
        var options = new ChainsOptions();
        ChainsOptions.Read(configuration, options);
        return options;
    }

    [Fact]
    public void Endpoints_are_read_per_chain_with_the_default_rate()
    {
        var options = Read(("Chains:Ethereum:RpcUrl", "https://mainnet.infura.example/v3/abc"), ("Chains:solana:RpcUrl", "http://127.0.0.1:8899"),
            ("Chains:solana:RequestsPerSecond", "25"), ("Chains:polygon:RequestsPerSecond", "5"));

        Assert.Empty(options.Problems);
        Assert.Equal(["ethereum", "solana"], options.Endpoints.Keys.Order());
        Assert.Equal(ChainsOptions.DefaultRequestsPerSecond, options.Endpoints["ethereum"].RequestsPerSecond);
        Assert.Equal(25, options.Endpoints["solana"].RequestsPerSecond);
        Assert.Equal("https://mainnet.infura.example", options.Endpoints["ethereum"].SafeName);
        Assert.Equal("http://127.0.0.1:8899", options.Endpoints["solana"].SafeName);
    }

    [Theory]
    [InlineData("Chains:dogecoin:RpcUrl", "https://doge.example", "Chains:dogecoin is not a chain")]
    [InlineData("Chains:ethereum:RpcUrl", "ftp://node.example/v3/s3cret", "Chains:ethereum:RpcUrl must be an absolute http(s) URL")]
    [InlineData("Chains:ethereum:RpcUrl", "node.example/v3/s3cret", "Chains:ethereum:RpcUrl must be an absolute http(s) URL")]
    [InlineData("Chains:ethereum:RequestsPerSecond", "0", "Chains:ethereum:RequestsPerSecond must be a whole number above 0")]
    [InlineData("Chains:ethereum:RequestsPerSecond", "fast", "Chains:ethereum:RequestsPerSecond must be a whole number above 0")]
    [InlineData("Chains:ethereum", "https://node.example", "Chains:ethereum is a group of settings")]
    public void A_bad_value_is_one_problem_naming_the_key_without_the_value(string key, string value, string problem)
    {
        var options = Read((key, value));

        var line = Assert.Single(options.Problems);
        Assert.StartsWith(problem, line, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", line, StringComparison.Ordinal);
        Assert.Empty(options.Endpoints);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("1000000000000000000", 1)]
    [InlineData("1", 0.000000000000000001)]
    [InlineData("123456789", 0.000123456789)]
    public void Base_units_become_whole_tokens_exactly(string raw, double expected)
    {
        Assert.Equal((decimal)expected, TokenAmounts.ToDecimal(System.Numerics.BigInteger.Parse(raw, System.Globalization.CultureInfo.InvariantCulture), raw == "123456789" ? 12 : 18));
    }

    [Fact]
    public void Amounts_past_decimal_precision_are_cut_never_rounded_up_and_huge_ones_clamped()
    {
        // 2^256 - 1 wei: far above decimal.MaxValue whole tokens only with 0 decimals.
        var max = System.Numerics.BigInteger.Pow(2, 256) - 1;
        Assert.Equal(decimal.MaxValue, TokenAmounts.ToDecimal(max, 0));
        // 30 significant digits with 18 decimals: the last digits are dropped, the amount is not rounded up.
        var raw = System.Numerics.BigInteger.Parse("999999999999999999999999999999", System.Globalization.CultureInfo.InvariantCulture);
        var amount = TokenAmounts.ToDecimal(raw, 18);
        Assert.True(amount <= 999999999999.999999999999999999m);
        Assert.Equal(999999999999.9999999999999999m, amount); // 28 digits: the most a decimal holds here
    }
}
