#!/usr/bin/env bash
# The whole test suite: build the book with -W (a broken page fails), then pytest:
# unit, reference-parity and bad-input tests, the notebook regression check (the outputs
# stored in every committed notebook against the build's fresh execution of its page:
# tests/test_notebook_outputs.py), and browser checks of the built site; beside them, the PDF
# and its tests, and the other-seeds check (every page again with other seeds:
# scripts/check_other_seeds.py; DLDNA_OTHER_SEEDS=none skips it, as .ci/run does).
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
# or environment fixture) on one worker. DLDNA_JOBS=1 runs the main pytest in one process, in order
# (the PDF and the clean-environment tests still run beside it). Arguments go to the main pytest only.
jobs="${DLDNA_JOBS:-$(nproc)}"
parallel=()
[ "$jobs" -gt 1 ] && parallel=(-n "$jobs" --dist loadfile)

# The other-seeds check (what tests/test_other_seeds.py's slow test runs) starts now, in its own
# process group, and runs beside the PDF and pytest, sharing the build's run cache. Its report is
# printed at the end, and a page whose claims do not hold with other seeds fails the run there.
# DLDNA_OTHER_SEEDS names the seed set (default 1; "none" skips the check). It doubles the work:
# every page executes once more (about 680 CPU-seconds of the 2,140 a clean-clone run took on
# 2026-12-07), so .ci/run skips it and .github/workflows/other-seeds.yml runs sets 1 and 2 (on pull
# requests that touch pages or package, and nightly).
seeds_set="${DLDNA_OTHER_SEEDS:-1}"
seeds_log="$ROOT/_build/other_seeds.log"
pdf_log="$ROOT/_build/pdf.log"
clean_log="$ROOT/_build/clean_install.log"
groups=()
# stopped early: leave no pages or browsers running (each group, or its child before it made one)
trap 'for g in "${groups[@]}"; do kill -- "-$g" 2>/dev/null || kill "$g" 2>/dev/null || true; done' EXIT
# Ctrl-C stops the run at once: the jobs beside pytest are in sessions of their own and never see it
trap 'exit 130' INT TERM

# beside LOG COMMAND...: run COMMAND in its own process group, output to LOG; its pid in $last_pid
beside() {
  local log=$1; shift
  setsid -w "$@" > "$log" 2>&1 &
  last_pid=$!
  groups+=("$last_pid")
}
# finish PID LOG LABEL WHAT: wait for a job started by `beside`, print its log, fail the run if it failed
finish() {
  local rc=0
  wait "$1" || rc=$?
  grep -v "IPKernelApp\] WARNING" "$2" || true
  if [ "$rc" -ne 0 ]; then
    echo "[$3] FAILED: $4 (above; log: $2)" >&2
    [ "$status" -ne 0 ] || status=$rc
  fi
}
# Free space where the build writes: CI once stopped at Chromium's bare "Read failed", which is what
# an unwritable temporary folder gives (scripts/build_pdf.py)
disk() { df -h "$ROOT" /tmp 2>/dev/null | sed 's/^/[disk] /' || true; }

if [ "$seeds_set" != "none" ]; then
  cache="$(.venv/bin/python -c 'from dldna_helpers.env import cache_root; print(cache_root()[0])')"
  beside "$seeds_log" .venv/bin/python scripts/check_other_seeds.py --set "$seeds_set" --jobs "$jobs" --cache "$cache"
  seeds_pid=$last_pid
fi
disk
# The printed book from the same build, then its tests (tests/test_pdf.py), beside the other tests:
# printing keeps one core busy for a minute or more, and pytest's workers fill the other.
beside "$pdf_log" bash -c 'bash scripts/build_pdf.sh && .venv/bin/python -m pytest -p no:cacheprovider -q tests/test_pdf.py'
pdf_pid=$last_pid
# Every notebook alone in a Colab-like environment (tests/test_clean_install.py: a pip set-up, then two
# notebooks at a time) runs beside them too. As one module of the main run it held one of pytest's
# two workers for about 150 s, and the run ended with one core idle for a minute or more (vmstat).
beside "$clean_log" .venv/bin/python -m pytest -p no:cacheprovider -q --durations=5 tests/test_clean_install.py
clean_pid=$last_pid

status=0
.venv/bin/python -m pytest -p no:cacheprovider --durations=20 "${parallel[@]}" tests \
  --ignore tests/test_pdf.py --ignore tests/test_clean_install.py \
  --deselect tests/test_other_seeds.py::test_every_page_holds_its_claims_with_other_seeds "$@" || status=$?

finish "$clean_pid" "$clean_log" clean "a notebook alone in the Colab-like environment"
finish "$pdf_pid" "$pdf_log" pdf "the printed book or its tests"
if [ "$seeds_set" != "none" ]; then
  finish "$seeds_pid" "$seeds_log" seeds "a page's claims do not hold with other seeds, or a comparison reversed"
else
  echo "[seeds] other-seeds check skipped (DLDNA_OTHER_SEEDS=none)"
fi
trap - EXIT
disk
exit "$status"
