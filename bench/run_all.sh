#!/usr/bin/env bash
# Run every benchmark side by side on this machine and print each one's summary line.
# Ratios, not seconds, are what to compare: these machines are shared and noisy.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
mkdir -p bench/results
stamp="$(date -u +%Y-%m-%dT%H:%MZ)"
# The GPU-time estimate of the full profile comes last (about 5 minutes; it re-measures the quick
# page times it checks its work lists against when its stamped page_times.json is stale).
# bench_parallel.py builds the book twice (serial and parallel, empty caches) and runs the other-seeds
# check after each build: ~20 minutes.
for script in bench/bench_*.py bench/estimate_full_profile.py; do
  name="$(basename "$script" .py)"
  echo "== $name"
  .venv/bin/python "$script" | tee "bench/results/$name.txt"
done
echo "== summary ($stamp, $(nproc) cores, $(uname -m))"
for f in bench/results/bench_*.txt bench/results/estimate_full_profile.txt; do
  printf '%-22s %s\n' "$(basename "$f" .txt)" "$(tail -n 1 "$f")"
done
