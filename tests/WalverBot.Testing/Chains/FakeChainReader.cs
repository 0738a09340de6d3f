using System.Collections.Concurrent;
using WalverBot.Chains;

namespace WalverBot.Testing.Chains;

/// <summary>
/// An in-memory <see cref="IChainReader"/>: told the amount of each wallet and the block/slot, it answers reads as a
/// real reader would, or fails (<see cref="ChainReadException"/>), or answers nothing for the wallets; it records every
/// read. Thread-safe. Wallets compare case-insensitively (EVM addresses are read lower-cased by the bot).
/// </summary>
public sealed class FakeChainReader : IChainReader
{
    private readonly ConcurrentDictionary<string, decimal> _amounts = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<(TokenSpec Token, IReadOnlyList<string> Wallets)> _reads = new();
    private readonly HashSet<string> _unreadable = new(StringComparer.OrdinalIgnoreCase);
    private string? _failure;
    private int _failuresLeft;
    private int _calls;

    /// <summary>The block/slot every answer carries.</summary>
    public ulong Block { get; set; } = 1000;

    /// <summary>When true, answers carry no amount at all (a contract that answers nothing).</summary>
    public bool AnswerNothing { get; set; }

    /// <summary>Called with the wallets before each read is answered (e.g. to stop a test's bot mid-pass).</summary>
    public Func<IReadOnlyList<string>, Task>? BeforeRead { get; set; }

    public int Calls => Volatile.Read(ref _calls);

    public IReadOnlyList<(TokenSpec Token, IReadOnlyList<string> Wallets)> Reads => [.. _reads];

    public FakeChainReader SetAmount(string wallet, decimal amount)
    {
        _amounts[wallet] = amount;
        return this;
    }

    /// <summary>Chains without an RPC endpoint (CanRead false); every other chain can be read.</summary>
    public void SetUnreadable(string chain)
    {
        lock (_unreadable)
        {
            _unreadable.Add(chain);
        }
    }

    /// <summary>Every read throws <see cref="ChainReadException"/> with <paramref name="message"/> (null: reads work again); <paramref name="times"/> limits it.</summary>
    public void Fail(string? message, int times = int.MaxValue)
    {
        Volatile.Write(ref _failuresLeft, times);
        Volatile.Write(ref _failure, message);
    }

    public bool CanRead(string chain)
    {
        lock (_unreadable)
        {
            return !_unreadable.Contains(chain);
        }
    }

    public async Task<HoldingsSnapshot> ReadAsync(TokenSpec token, IReadOnlyList<string> wallets, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        _reads.Enqueue((token, wallets.ToList()));
        if (BeforeRead is { } before)
        {
            await before(wallets);
        }

        if (Volatile.Read(ref _failure) is { } failure && Interlocked.Decrement(ref _failuresLeft) >= 0)
        {
            throw new ChainReadException(token.Chain, failure);
        }

        return AnswerNothing
            ? new HoldingsSnapshot([], Block)
            : new HoldingsSnapshot([.. wallets.Select(w => new WalletAmount(w, _amounts.GetValueOrDefault(w)))], Block);
    }
}
