#!/usr/bin/env bash
# Run every benchmark side by side on this machine and print each one's summary line.
# Ratios, not seconds, are what to compare: these machines are shared and noisy.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
mkdir -p bench/results
stamp="$(date -u +%Y-%m-%dT%H:%MZ)"
for script in bench/bench_*.py; do
  name="$(basename "$script" .py)"
  echo "== $name"
  .venv/bin/python "$script" | tee "bench/results/$name.txt"
done
echo "== summary ($stamp, $(nproc) cores, $(uname -m))"
for f in bench/results/bench_*.txt; do
  printf '%-22s %s\n' "$(basename "$f" .txt)" "$(tail -n 1 "$f")"
done
