#!/usr/bin/env bash
# Runs WalverBot's benchmarks (not part of `dotnet test`): the real bot process, Release build, against the fake
# Discord on loopback. Arguments go to the bench: all (default) | startup | memory | accept | wrk | e2e | ratelimit,
# recheck (not in all; needs anvil: --wallets N, --runs N, --loaded-runs N), surge (not in all; minutes: --surge N,
# --role-limit N, --global-limit N, --post-within S, --burst-seconds S, --guilds N (0 skips the many-guilds run), --per-guild N,
# --in-process-sender: the paced posts from the bench process as before, instead of a paced-sender process of their own), directory (not in all: --members N,
# default 1000000; starts with directory-micro, the in-process bytes-per-member measure, also runnable alone),
# follower (not in all; needs anvil: --wallets N, --transfers N, --poll-ms N),
# stores (not in all; needs Debian's postgresql package, ~2 minutes: SQLite vs PostgreSQL vs two instances on PostgreSQL,
# --seconds N per round and setup, --rounds N, default 3),
# --seconds N (per accept run, default 10), --connections N (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
echo "machine: $(nproc) cores, $(free -m | awk '/Mem:/ {print $2 " MiB"}') memory, $(uname -sr)"
dotnet --info | sed -n '1,12p' | sed 's/^/  /'
dotnet build bench/WalverBot.Bench --configuration Release -nologo -v quiet
dotnet bench/WalverBot.Bench/bin/Release/net10.0/WalverBot.Bench.dll "$@"
