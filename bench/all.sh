#!/usr/bin/env bash
# Run the benchmarks one after another (bench.screening, whose figures are quality first, runs on its own): `bash bench/all.sh --quick` (a few minutes, after a merge)
# or `bash bench/all.sh` (the recorded figures). Output also goes to bench/last-run.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -c "import aiohttp" 2>/dev/null || .venv/bin/pip install --quiet -e '.[bench]'
command -v pgbench >/dev/null || { echo "pgbench is missing: apt-get install postgresql-client (Debian)"; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk (Debian)"; exit 1; }
command -v npm >/dev/null || { echo "npm is missing (bench.graphql_peer installs PostGraphile with it): apt-get install npm"; exit 1; }
for bench in wallet lobby live scale reports events graphql_peer risk_inline monitoring_backtest \
  tournament_board tournament_subscribers jackpot_subscribers jackpot_lag jackpot_simulation affiliate_postbacks \
  crm_journeys; do
  extra=()
  if [ "$bench" = wallet ] || [ "$bench" = lobby ]; then extra=(--profile); fi
  .venv/bin/python -m "bench.$bench" "$@" "${extra[@]}"
done 2>&1 | tee bench/last-run.txt
