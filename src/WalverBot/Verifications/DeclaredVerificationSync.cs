namespace WalverBot.Verifications;

/// <summary>Copies the operator's declared verifications into the database, so no command is needed for them.</summary>
public sealed class DeclaredVerificationSync(VerificationStore store, ILogger<DeclaredVerificationSync> logger)
{
    public async Task SyncAsync(IReadOnlyList<DeclaredVerification> declared, CancellationToken cancellationToken)
    {
        foreach (var item in declared)
        {
            var existing = await store.FindAsync(item.Id, cancellationToken);

            // Keep the stored hash when the secret did not change, so the row is stable across restarts.
            var secretHash = existing is not null && SecretHasher.Verify(item.Secret, existing.SecretHash)
                ? existing.SecretHash
                : SecretHasher.Hash(item.Secret);

            await store.UpsertAsync(new Verification
            {
                Id = item.Id,
                GuildId = item.GuildId,
                RoleId = item.RoleId,
                SecretHash = secretHash,
                Chain = item.Chain?.ToLowerInvariant(),
                TokenAddress = string.IsNullOrWhiteSpace(item.TokenAddress) ? null : item.TokenAddress.Trim(),
                MinAmount = item.MinAmount,
                Source = "config",
                Binding = item.Binding.ToLowerInvariant(),
                Name = existing?.Name,
                Enabled = existing?.Enabled ?? true, // an admin's /walver disable survives restarts
                // Without a declared Url, keep the link the row already has (from /walver link, before it was declared).
                VerificationUrl = string.IsNullOrWhiteSpace(item.Url) ? existing?.VerificationUrl : item.Url.Trim(),
                TokenStandard = string.IsNullOrWhiteSpace(item.TokenStandard) ? null : item.TokenStandard.Trim().ToLowerInvariant(),
                TokenId = string.IsNullOrWhiteSpace(item.TokenId) ? null : item.TokenId.Trim(),
                // Configuration owns a declared verification's tiers: what is declared replaces what is stored.
                Tiers = [.. item.Tiers.OrderBy(t => t.MinAmount).Select(t => new RoleTier(t.MinAmount, t.RoleId))],
                ReverifyAfter = item.ReverifyAfter,
            }, cancellationToken);
        }

        if (declared.Count > 0)
        {
            logger.LogInformation("Synced {Count} verification(s) declared in configuration", declared.Count);
        }
    }
}
