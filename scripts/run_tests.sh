#!/usr/bin/env bash
# The whole test suite: build the book with -W (a broken page fails), then pytest
# (unit, reference parity, bad input, notebook regression with nbval, browser checks).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/build_book.sh"
cd "$ROOT"
export MPLBACKEND=Agg
.venv/bin/python -m pytest -p no:cacheprovider "$@"
