using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: Xunit.TestCollectionOrderer("WalverBot.Tests.Hosting.LongestFirstOrderer", "WalverBot.Tests")]

namespace WalverBot.Tests.Hosting;

/// <summary>
/// Marks a test class that takes long as a whole (its tests run one after another), with its usual time in a full run
/// on two cores.
/// </summary>
/// <remarks>
/// The suite's time is what its two cores can do, unless one long class starts late and is left running alone at the
/// end: the kill drill (about 45 s) once started 66 s into a run and kept the run going 18 s after every other test had
/// finished. Starting the longest classes first (longest-processing-time-first scheduling) lets the short ones fill in
/// around them.
/// </remarks>
[AttributeUsage(AttributeTargets.Class)]
public sealed class LongRunningAttribute(int seconds) : Attribute
{
    public int Seconds { get; } = seconds;
}

/// <summary>
/// Starts the test classes marked <see cref="LongRunningAttribute"/> first, longest first; the others follow in
/// xunit's own order. xunit starts collections in the order given, as many at a time as its parallel threads allow.
/// </summary>
public sealed class LongestFirstOrderer : ITestCollectionOrderer
{
    private const string ClassCollectionPrefix = "Test collection for ";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        new DefaultTestCollectionOrderer()
            .OrderTestCollections(testCollections)
            .OrderByDescending(SecondsOf); // a stable sort: unmarked classes keep xunit's order

    private static int SecondsOf(ITestCollection collection)
    {
        // A class without [Collection] is a collection of its own, named after the class.
        var type = collection.CollectionDefinition is IReflectionTypeInfo definition ? definition.Type
            : collection.DisplayName.StartsWith(ClassCollectionPrefix, StringComparison.Ordinal)
                ? typeof(LongestFirstOrderer).Assembly.GetType(collection.DisplayName[ClassCollectionPrefix.Length..])
                : null;
        return type?.GetCustomAttribute<LongRunningAttribute>()?.Seconds ?? 0;
    }
}
