using WalverBot.Chains;
using WalverBot.Following;

namespace WalverBot.Tests.Following;

/// <summary>
/// A scripted EVM chain for the follower's unit tests: blocks with hashes, transfer logs, a head, a node limit on the
/// eth_getLogs range (answered as Infura does: error -32005 "query returned more than 10000 results"), and reorgs that
/// replace every block from a height on. Every eth_getLogs range asked for is recorded.
/// </summary>
public sealed class ScriptedChain : IFollowerRpc
{
    private readonly Dictionary<ulong, string> _hashes = [];
    private readonly List<TransferLog> _logs = [];
    private int _fork;

    public ScriptedChain(ulong head) => MineTo(head);

    public ulong Head { get; private set; }

    /// <summary>The widest eth_getLogs range the node answers; wider ones are refused.</summary>
    public ulong? MaxRange { get; set; }

    public List<(ulong From, ulong To)> LogRanges { get; } = [];

    public int RefusedRanges { get; private set; }

    public int HashRequests { get; private set; }

    public void MineTo(ulong head)
    {
        for (var n = Head == 0 && _hashes.Count == 0 ? 0 : Head + 1; n <= head; n++)
        {
            _hashes[n] = Hash(n, _fork);
        }

        Head = head;
    }

    public void Transfer(ulong block, string contract, string from, string to) =>
        _logs.Add(new TransferLog(block, _hashes[block], contract, from, to, Removed: false));

    /// <summary>Replaces every block from <paramref name="height"/> up (and their logs) with a fork of the same length.</summary>
    public void Reorg(ulong height)
    {
        _fork++;
        for (var n = height; n <= Head; n++)
        {
            _hashes[n] = Hash(n, _fork);
        }

        _logs.RemoveAll(l => l.Block >= height);
    }

    public Task<ulong> HeadAsync(CancellationToken cancellationToken) => Task.FromResult(Head);

    public Task<IReadOnlyList<string?>> BlockHashesAsync(IReadOnlyList<ulong> numbers, CancellationToken cancellationToken)
    {
        HashRequests++;
        return Task.FromResult<IReadOnlyList<string?>>([.. numbers.Select(n => n <= Head ? _hashes[n] : null)]);
    }

    public Task<IReadOnlyList<TransferLog>> LogsAsync(ulong from, ulong to, LogFilter filter, CancellationToken cancellationToken)
    {
        if (MaxRange is { } max && to - from + 1 > max)
        {
            RefusedRanges++;
            throw new ChainReadException("ethereum", "ethereum RPC http://127.0.0.1: eth_getLogs answered error -32005: query returned more than 10000 results");
        }

        LogRanges.Add((from, to));
        var contracts = filter.Erc20Or721Contracts.Concat(filter.Erc1155Contracts).ToHashSet();
        return Task.FromResult<IReadOnlyList<TransferLog>>([.. _logs.Where(l => l.Block >= from && l.Block <= to && contracts.Contains(l.Contract) &&
            (filter.Wallets is null || filter.Wallets.Contains(l.From) || filter.Wallets.Contains(l.To)))]);
    }

    private static string Hash(ulong n, int fork) => $"0x{fork:x8}{n:x56}";
}

/// <summary>Records the re-checks the follower asks for; one followed token with two linked wallets.</summary>
public sealed class RecordingEffects : IFollowerEffects
{
    public const string VerificationId = "wb_follow";
    public const string Contract = "0x00000000000000000000000000000000000000c0";
    public const string Alice = "0x00000000000000000000000000000000000000a1";
    public const string Bob = "0x00000000000000000000000000000000000000b2";
    public const string Stranger = "0x00000000000000000000000000000000000000ee";

    public List<(IReadOnlyCollection<string> Wallets, ulong AtBlock)> Rechecks { get; } = [];

    /// <summary>When set, the next re-check with wallets throws (a crash between the commit and the re-check).</summary>
    public bool FailNext { get; set; }

    public IEnumerable<(IReadOnlyCollection<string> Wallets, ulong AtBlock)> WithWallets => Rechecks.Where(r => r.Wallets.Count > 0);

    public Task<IReadOnlyList<FollowedToken>> FollowedAsync(string chain, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<FollowedToken>>([new FollowedToken(VerificationId, Contract, false, new HashSet<string> { Alice, Bob })]);

    public Task RecheckAsync(string verificationId, IReadOnlyCollection<string> wallets, ulong atBlock, CancellationToken cancellationToken)
    {
        if (FailNext && wallets.Count > 0)
        {
            FailNext = false;
            throw new InvalidOperationException("the process died here");
        }

        Rechecks.Add(([.. wallets.Order()], atBlock));
        return Task.CompletedTask;
    }
}
