#!/usr/bin/env bash
# Build the whole book into _build/html, executing every notebook; warnings are errors.
set -euo pipefail
# Idle OpenMP threads sleep instead of spinning: on a busy 2-core machine spinning made
# torch 5-10x slower (measured in bench/bench_landscape.py). Must be set before torch loads.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
start=$(date +%s)
.venv/bin/jupyter-book build -W -n --keep-going . "$@"
echo "[build] book built in $(( $(date +%s) - start )) s: $ROOT/_build/html/index.html"
