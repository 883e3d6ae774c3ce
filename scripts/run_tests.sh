#!/usr/bin/env bash
# The whole test suite: build the book with -W (a broken page fails), then pytest:
# unit, reference-parity and bad-input tests, the notebook regression check (the outputs
# stored in every committed notebook against the build's fresh execution of its page:
# tests/test_notebook_outputs.py), and browser checks of the built site.
set -euo pipefail
# Idle OpenMP threads sleep instead of spinning: on a busy 2-core machine spinning made
# torch 5-10x slower (measured in bench/bench_landscape.py). Must be set before torch loads.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
# A contradicted claim fails the build and the tests (a reader's own run only prints a note).
export DLDNA_STRICT_CLAIMS="${DLDNA_STRICT_CLAIMS:-1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/build_book.sh"
bash "$ROOT/scripts/build_pdf.sh"   # the printed book from the same build (tests/test_pdf.py)
cd "$ROOT"
# One worker per core; --dist loadfile keeps each test module (and its module-scoped browser
# or environment fixture) on one worker. DLDNA_JOBS=1 runs everything in this process, in order.
jobs="${DLDNA_JOBS:-$(nproc)}"
parallel=()
[ "$jobs" -gt 1 ] && parallel=(-n "$jobs" --dist loadfile)
.venv/bin/python -m pytest -p no:cacheprovider "${parallel[@]}" tests "$@"
