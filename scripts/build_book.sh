#!/usr/bin/env bash
# Build the whole book into _build/html, executing every notebook; warnings are errors.
set -euo pipefail
# Idle OpenMP threads sleep instead of spinning: on a busy 2-core machine spinning made
# torch 5-10x slower (measured in bench/bench_landscape.py). Must be set before torch loads.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
# A contradicted claim fails the build (a reader's own run only prints a note).
export DLDNA_STRICT_CLAIMS="${DLDNA_STRICT_CLAIMS:-1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
start=$(date +%s)
# Pages execute in parallel first (one kernel per core, each on one torch thread in the quick
# profile), into a fresh cache that the build then reads instead of executing pages one by one.
# DLDNA_JOBS=1 gives the serial order of the same work.
.venv/bin/python scripts/execute_pages.py --jobs "${DLDNA_JOBS:-$(nproc)}" \
  --cache _build/.jupyter_cache --config _build/_config.cache.yml
.venv/bin/jupyter-book build -W -n --keep-going . --config _build/_config.cache.yml "$@"
echo "[build] book built in $(( $(date +%s) - start )) s: $ROOT/_build/html/index.html"
