namespace WalverBot.Tests.Hosting;

/// <summary>
/// Tests in this collection run after the parallel ones, with no other bot alive in the process: for tests that
/// measure the process, such as its managed memory. Each bot's <c>/metrics</c> is its own (one view drops other
/// hosts' instruments), and each bot's listener limits are its own, so neither reading metrics nor flooding a
/// listener is a reason to run alone.
/// </summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;
