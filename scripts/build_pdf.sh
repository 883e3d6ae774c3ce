#!/usr/bin/env bash
# Print the whole chapter to one PDF, from the same executed notebooks as the site:
#   1. the site, if it has not been built yet (scripts/build_book.sh executes every page into
#      _build/.jupyter_cache; DLDNA_PDF_REBUILD=1 builds it again);
#   2. Sphinx's one-page build of the book from that cache (_build/singlehtml, nothing re-executed);
#   3. headless Chromium prints it (scripts/build_pdf.py) to _build/html/ch05-optimization.pdf,
#      which every page of the site links from its download menu.
# Needs Debian's chromium, fonts-nanum and poppler-utils (scripts/setup_env.sh installs them as root).
set -euo pipefail
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
start=$(date +%s)
if [ ! -f _build/_config.cache.yml ] || [ ! -d _build/html ] || [ -n "${DLDNA_PDF_REBUILD:-}" ]; then
  bash scripts/build_book.sh   # also sets up .venv and the system packages
fi
# -W: a warning fails the one-page build as it fails the site's build
if ! .venv/bin/jupyter-book build -W -n --keep-going --builder singlehtml . --config _build/_config.cache.yml \
    > _build/singlehtml.log 2>&1; then
  tail -n 40 _build/singlehtml.log
  echo "[build_pdf] the one-page build failed (log: _build/singlehtml.log)" >&2
  exit 1
fi
echo "[build_pdf] one-page build in $(( $(date +%s) - start )) s"
.venv/bin/python scripts/build_pdf.py "$@"
echo "[build_pdf] done in $(( $(date +%s) - start )) s"
