using Dapper;
using WalverBot.Storage;

namespace WalverBot.Following;

/// <summary>A wallet re-check a processed log asked for: the wallet of a verification touched by a transfer in that block.</summary>
public sealed record RecheckRequest(ulong Block, string VerificationId, string Wallet);

/// <summary>A processed block's number and hash, kept to find the fork point after a reorg.</summary>
public sealed record ProcessedBlock(ulong Number, string Hash);

/// <summary>
/// The follower's state (tables of the follower migration): per chain the last processed block, the hashes of recent
/// processed blocks, and the re-checks the processed logs asked for. A range is committed in one transaction with the
/// re-checks it caused, so a restart neither skips a block (the cursor moves only with its re-checks stored) nor repeats
/// one (the cursor and the re-checks move together); the re-checks themselves are marked done once run.
/// </summary>
public sealed class FollowerStore(Database database, TimeProvider time)
{
    public async Task<ulong?> CursorAsync(string chain, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var last = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT last_block FROM follower_cursors WHERE chain = @chain", new { chain }, cancellationToken: cancellationToken));
        return last is { } l ? (ulong)l : null;
    }

    /// <summary>Every chain's cursor (for <c>check</c>).</summary>
    public async Task<IReadOnlyDictionary<string, ulong>> CursorsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Chain, long Last)>(new CommandDefinition(
            "SELECT chain, last_block FROM follower_cursors", cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.Chain, r => (ulong)r.Last, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The remembered processed blocks, newest first.</summary>
    public async Task<IReadOnlyList<ProcessedBlock>> RecentBlocksAsync(string chain, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(long Number, string Hash)>(new CommandDefinition(
            "SELECT number, hash FROM follower_blocks WHERE chain = @chain ORDER BY number DESC", new { chain }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new ProcessedBlock((ulong)r.Number, r.Hash))];
    }

    /// <summary>Moves the cursor to <paramref name="block"/>, remembers its hash and stores the re-checks of the range, in one transaction.</summary>
    public async Task CommitAsync(string chain, ProcessedBlock block, IReadOnlyList<RecheckRequest> rechecks, int keep, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO follower_cursors (chain, last_block, updated_at) VALUES (@chain, @number, @now)
            ON CONFLICT (chain) DO UPDATE SET last_block = excluded.last_block, updated_at = excluded.updated_at
            """, new { chain, number = (long)block.Number, now = Database.Format(time.GetUtcNow()) }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO follower_blocks (chain, number, hash) VALUES (@chain, @number, @hash) ON CONFLICT (chain, number) DO UPDATE SET hash = excluded.hash",
            new { chain, number = (long)block.Number, hash = block.Hash }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO follower_rechecks (chain, block, verification_id, wallet_address) VALUES (@chain, @Block, @VerificationId, @Wallet)
            ON CONFLICT (chain, block, verification_id, wallet_address) DO UPDATE SET done = 0
            """, rechecks.Select(r => new { chain, Block = (long)r.Block, r.VerificationId, r.Wallet }), transaction, cancellationToken: cancellationToken));
        var oldest = (long)block.Number - keep;
        await connection.ExecuteAsync(new CommandDefinition("""
            DELETE FROM follower_blocks WHERE chain = @chain AND number < @oldest;
            DELETE FROM follower_rechecks WHERE chain = @chain AND block < @oldest AND done = 1;
            """, new { chain, oldest }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// After a reorg: the cursor goes back to the fork point, the hashes above it are forgotten, and the wallets that logs of
    /// the orphaned blocks touched are due for a re-check again, which reads the balances of the chain that won.
    /// </summary>
    public async Task RewindAsync(string chain, ulong forkPoint, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var fork = (long)forkPoint;
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE follower_cursors SET last_block = @fork, updated_at = @now WHERE chain = @chain;
            DELETE FROM follower_blocks WHERE chain = @chain AND number > @fork;
            UPDATE follower_rechecks SET done = 0 WHERE chain = @chain AND block > @fork;
            """, new { chain, fork, now = Database.Format(time.GetUtcNow()) }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<RecheckRequest>> PendingAsync(string chain, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(long Block, string VerificationId, string Wallet)>(new CommandDefinition(
            "SELECT block, verification_id, wallet_address FROM follower_rechecks WHERE chain = @chain AND done = 0 ORDER BY block",
            new { chain }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new RecheckRequest((ulong)r.Block, r.VerificationId, r.Wallet))];
    }

    public async Task MarkDoneAsync(string chain, IReadOnlyList<RecheckRequest> done, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE follower_rechecks SET done = 1 WHERE chain = @chain AND block = @Block AND verification_id = @VerificationId AND wallet_address = @Wallet",
            done.Select(r => new { chain, Block = (long)r.Block, r.VerificationId, r.Wallet }), transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Whether any member of the verification has a first strike (a second check may be due).</summary>
    public async Task<bool> HasStrikesAsync(string verificationId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM holdings_members WHERE verification_id = @verificationId AND strike_at IS NOT NULL)",
            new { verificationId }, cancellationToken: cancellationToken));
    }

    /// <summary>The linked wallets of the enabled verifications with a token contract on <paramref name="chain"/>.</summary>
    public async Task<IReadOnlyList<(string VerificationId, string Wallet)>> FollowedWalletsAsync(string chain, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string VerificationId, string Wallet)>(new CommandDefinition("""
            SELECT w.verification_id, w.wallet_address FROM holdings_wallets w JOIN verifications v ON v.id = w.verification_id
            WHERE v.enabled = 1 AND lower(v.chain) = @chain AND v.token_address IS NOT NULL AND v.token_address <> ''
            """, new { chain }, cancellationToken: cancellationToken));
        return rows.ToList();
    }
}
