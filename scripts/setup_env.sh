#!/usr/bin/env bash
# Create .venv and install what is missing. Quick when nothing changed: the hash of the
# requirement and constraint files is remembered in .venv/.installed and pip runs only when it differs.
# Run (not sourced: it sets an EXIT trap) by build_book.sh; safe to run on its own.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"

# Optional system packages (Debian/Ubuntu with root only): the real FashionMNIST, a Korean
# font and Chromium for the browser tests and the PDF, poppler-utils for the PDF's page numbers
# and checks. Without them the book still works. apt-get runs beside pip (a fresh machine spends
# tens of seconds on each, and neither needs the other); it is waited for before the assets below.
want=()
apt_pid=""
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 && [ -z "${DLDNA_NO_APT:-}" ]; then
  for pkg in dataset-fashion-mnist fonts-nanum chromium poppler-utils; do
    dpkg -s "$pkg" >/dev/null 2>&1 || want+=("$pkg")
  done
  if [ "${#want[@]}" -gt 0 ]; then
    echo "[setup] apt-get install ${want[*]} (beside pip)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}" >/dev/null) &
    apt_pid=$!
    # if pip fails, let apt-get finish rather than leave it running (or kill it mid-install)
    trap 'if [ -n "$apt_pid" ]; then wait "$apt_pid" 2>/dev/null || true; fi' EXIT
  fi
fi

# A .venv left half-made by an interrupted run (no working python or no pip) is made again.
if [ -d .venv ] && ! { [ -x .venv/bin/python ] && .venv/bin/python -m pip --version >/dev/null 2>&1; }; then
  echo "[setup] .venv is incomplete (an interrupted set-up?): making it again"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
want_hash="$(cat requirements.txt constraints.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
have_hash="$(cat .venv/.installed 2>/dev/null || true)"
if [ "$want_hash" != "$have_hash" ]; then
  echo "[setup] installing requirements into .venv (first time: several minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  # pip compiles every installed module to bytecode on one core (about 36 of its 71 s here, torch's
  # CUDA build being most of it); compileall does the same on every core afterwards (23 s on 2 cores;
  # measured 2026-12-07 with warm disk caches). A file that does not compile (some packages ship
  # Python 2 examples) is skipped, as pip skips it.
  .venv/bin/python -m pip install -q --no-compile -r requirements.txt -c constraints.txt
  .venv/bin/python -m pip install -q --no-deps -e .
  .venv/bin/python -m compileall -q -j 0 "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
    > /dev/null 2>&1 || true
  echo "$want_hash" > .venv/.installed
fi
if [ -n "$apt_pid" ]; then
  wait "$apt_pid" || echo "[setup] apt-get failed; continuing without ${want[*]}"
  apt_pid=""
fi
# Vendored browser assets (MathJax, widget manager) for offline pages, if the script exists.
if [ -f scripts/fetch_assets.sh ]; then
  bash scripts/fetch_assets.sh
fi
