"""Fill a jupyter-cache with the outputs of the committed reader notebooks, so the site can be
built without executing any page.

Every page's ``.ipynb`` holds the outputs of its last execution (``scripts/sync_notebooks.py``),
and ``tests/test_notebook_sync.py`` keeps its code cells equal to the ``.md`` source. This script
pairs the two: the notebook myst-nb reads from the ``.md`` (what the cache is keyed on) gets the
committed outputs, and goes into a fresh cache, exactly as ``scripts/execute_pages.py`` stores a
fresh execution. Building with the written configuration then renders the site in about a minute,
which is what site work (theme, CSS, figures, accessibility) needs; the real build
(``scripts/build_book.sh``) still executes every page.

Usage:
  .venv/bin/python scripts/cache_from_notebooks.py [--cache DIR] [--config OUT.yml] [PAGE.md ...]
  .venv/bin/jupyter-book build . --config _build/_config.cache.yml
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from execute_pages import cache_config, read_as_myst_nb  # noqa: E402
from reader_notebook import strip_added_title  # noqa: E402
from sync_notebooks import notebook_pages  # noqa: E402


def with_committed_outputs(md_path: Path) -> nbformat.NotebookNode:
    """The notebook myst-nb reads from ``md_path``, holding the outputs of its committed ``.ipynb``."""
    nb = read_as_myst_nb(md_path)
    stored = [c for c in nbformat.read(md_path.with_suffix(".ipynb"), as_version=4).cells
              if c.cell_type == "code"]
    fresh = [c for c in nb.cells if c.cell_type == "code"]
    if [strip_added_title(c.source) for c in stored] != [c.source for c in fresh]:
        raise ValueError(f"{md_path.relative_to(ROOT)}: its .ipynb is out of date "
                         "(run scripts/sync_notebooks.py on it first)")
    for cell, old in zip(fresh, stored):
        cell.outputs = old.get("outputs", [])
        cell.execution_count = old.get("execution_count")
    return nb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", type=Path, help="default: every notebook page of _toc.yml")
    parser.add_argument("--cache", type=Path, default=ROOT / "_build" / ".jupyter_cache")
    parser.add_argument("--config", type=Path, default=ROOT / "_build" / "_config.cache.yml")
    args = parser.parse_args()
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    shutil.rmtree(args.cache, ignore_errors=True)
    cache = get_cache(str(args.cache))
    skipped = []
    for page in [p.resolve() for p in args.pages] or notebook_pages():
        try:
            nb = with_committed_outputs(page)
        except (ValueError, FileNotFoundError) as exc:
            skipped.append(f"{page.name}: {exc}")
            continue
        cache.cache_notebook_bundle(CacheBundleIn(nb, str(page)), check_validity=False, overwrite=True)
        print(f"[cache] {page.relative_to(ROOT)}")
    for line in skipped:
        print(f"[cache] skipped {line}", file=sys.stderr)
    cache_config(args.config, args.cache.resolve())
    print(f"[cache] build with: .venv/bin/jupyter-book build . --config {args.config}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
