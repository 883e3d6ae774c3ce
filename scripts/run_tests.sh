#!/usr/bin/env bash
# The whole test suite: build the book with -W (a broken page fails), then pytest:
# unit, reference-parity and bad-input tests, the notebook regression check (the outputs
# stored in every committed notebook against the build's fresh execution of its page:
# tests/test_notebook_outputs.py), and browser checks of the built site; beside them, the
# other-seeds check (every page again with other seeds: scripts/check_other_seeds.py).
set -euo pipefail
# Idle OpenMP threads sleep instead of spinning: on a busy 2-core machine spinning made
# torch 5-10x slower (measured in bench/bench_landscape.py). Must be set before torch loads.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
# A contradicted claim fails the build and the tests (a reader's own run only prints a note).
export DLDNA_STRICT_CLAIMS="${DLDNA_STRICT_CLAIMS:-1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/build_book.sh"
cd "$ROOT"
# One worker per core; --dist loadfile keeps each test module (and its module-scoped browser
# or environment fixture) on one worker. DLDNA_JOBS=1 runs everything in this process, in order.
jobs="${DLDNA_JOBS:-$(nproc)}"
parallel=()
[ "$jobs" -gt 1 ] && parallel=(-n "$jobs" --dist loadfile)

# The other-seeds check (what tests/test_other_seeds.py's slow test runs) starts now, in its own
# process group, and runs beside the PDF and pytest, sharing the build's run cache. Run as the
# last test it kept one core busy for minutes after the others were done (clean-clone CI of
# 2026-12-07: pytest 825 s, about 1.5 of 2 cores busy). Its report is printed at the end, and a
# page whose claims do not hold with other seeds fails the run there.
cache="$(.venv/bin/python -c 'from dldna_helpers.env import cache_root; print(cache_root()[0])')"
seeds_log="$ROOT/_build/other_seeds.log"
setsid -w .venv/bin/python scripts/check_other_seeds.py --set 1 --jobs "$jobs" --cache "$cache" > "$seeds_log" 2>&1 &
seeds_pid=$!
# stopped early: leave no pages running (the group, or the child before it made its group)
trap 'kill -- "-$seeds_pid" 2>/dev/null || kill "$seeds_pid" 2>/dev/null || true' EXIT

# Free space where the build writes: CI once stopped at Chromium's bare "Read failed", which is what
# an unwritable temporary folder gives (scripts/build_pdf.py)
df -h "$ROOT" /tmp 2>/dev/null | sed 's/^/[disk] /' || true
bash "$ROOT/scripts/build_pdf.sh"   # the printed book from the same build (tests/test_pdf.py)
status=0
.venv/bin/python -m pytest -p no:cacheprovider --durations=20 "${parallel[@]}" tests \
  --deselect tests/test_other_seeds.py::test_every_page_holds_its_claims_with_other_seeds "$@" || status=$?

seeds_status=0
wait "$seeds_pid" || seeds_status=$?
trap - EXIT
grep -v "IPKernelApp\] WARNING" "$seeds_log" || true
df -h "$ROOT" /tmp 2>/dev/null | sed 's/^/[disk] /' || true
if [ "$seeds_status" -ne 0 ]; then
  echo "[seeds] FAILED: a page's claims do not hold with other seeds, or a comparison reversed (above)" >&2
  [ "$status" -ne 0 ] || status=$seeds_status
fi
exit "$status"
