using WalverBot.Following;

namespace WalverBot.Tests.Following;

/// <summary>Which topics of a log are from and to, per EIP-20/721 (Transfer) and EIP-1155 (TransferSingle/TransferBatch).</summary>
public sealed class TransferTopicsTests
{
    private const string From = "0x00000000000000000000000000000000000000a1";
    private const string To = "0x00000000000000000000000000000000000000b2";
    private const string Operator = "0x00000000000000000000000000000000000000c3";

    [Fact]
    public void Erc20_and_erc721_Transfer_have_from_and_to_in_topics_1_and_2()
    {
        Assert.Equal((From, To), TransferTopics.Decode([TransferTopics.Transfer, TransferTopics.AddressTopic(From), TransferTopics.AddressTopic(To)]));
        Assert.Equal((From, To), TransferTopics.Decode([TransferTopics.Transfer, TransferTopics.AddressTopic(From), TransferTopics.AddressTopic(To), "0x" + new string('0', 63) + "7"]));
    }

    [Theory]
    [InlineData(TransferTopics.TransferSingle)]
    [InlineData(TransferTopics.TransferBatch)]
    public void Erc1155_transfers_have_the_operator_first_and_from_and_to_in_topics_2_and_3(string topic0) =>
        Assert.Equal((From, To), TransferTopics.Decode([topic0, TransferTopics.AddressTopic(Operator), TransferTopics.AddressTopic(From), TransferTopics.AddressTopic(To)]));

    [Fact]
    public void Other_events_and_short_topic_lists_are_not_transfers()
    {
        Assert.Null(TransferTopics.Decode(["0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925", TransferTopics.AddressTopic(From), TransferTopics.AddressTopic(To)])); // Approval
        Assert.Null(TransferTopics.Decode([TransferTopics.TransferSingle, TransferTopics.AddressTopic(From), TransferTopics.AddressTopic(To)]));
        Assert.Null(TransferTopics.Decode([]));
    }
}
