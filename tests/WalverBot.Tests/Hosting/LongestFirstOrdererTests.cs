using WalverBot.Tests.EndToEnd;
using WalverBot.Tests.FaultDrills;
using WalverBot.Tests.Operations;
using Xunit.Sdk;

namespace WalverBot.Tests.Hosting;

/// <summary>
/// The orderer finds a class's <see cref="LongRunningAttribute"/> through the collection xunit makes for it: were xunit
/// to name those collections differently, the long classes would silently start in random order again.
/// </summary>
public sealed class LongestFirstOrdererTests
{
    [Fact]
    public void Marked_classes_start_first_longest_first()
    {
        var assembly = new TestAssembly(Reflector.Wrap(typeof(LongestFirstOrderer).Assembly));
        var collections = new CollectionPerClassTestCollectionFactory(assembly, new NullMessageSink());
        var unmarked = collections.Get(Reflector.Wrap(typeof(GrantFlowTests)));
        var drill = collections.Get(Reflector.Wrap(typeof(ScaleOutKillDrillTests)));
        var process = collections.Get(Reflector.Wrap(typeof(ProcessOperationsTests)));

        var ordered = new LongestFirstOrderer().OrderTestCollections([unmarked, process, drill]).ToList();

        Assert.Equal([drill, process, unmarked], ordered);
    }
}
