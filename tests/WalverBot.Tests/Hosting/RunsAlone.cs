namespace WalverBot.Tests.Hosting;

/// <summary>
/// Tests in this collection run after the parallel ones, with no other bot alive in the process: for tests that
/// measure the process (its memory, its connections). Each bot's <c>/metrics</c> is its own (one view drops other
/// hosts' instruments), so reading metrics is not a reason to run alone.
/// </summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;
