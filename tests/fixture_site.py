"""Build the small fixture book of ``tests/site_fixture/`` with the real site's configuration.

The chapter pages take minutes to execute; the site's own machinery (numbered figures with
alt text, slider frames served as files, tables, the exercise checker and solutions, Korean
interface strings, CSS and JavaScript) can be checked on three small pages that use every kind
of output the chapter pages use. This module assembles a book folder in a temporary place: the
fixture's pages and ``_toc.yml``, the book's ``_config.yml`` (unchanged but for the table of
contents), and links to ``book/_ext``, ``book/_static``, ``book/_locale``, ``book/references.bib``
and ``_assets``; then runs ``jupyter-book build`` on it (the pages execute, about a minute).

``book/no_alt.md`` shows its figure with ``plt.show()`` on purpose: the alt-text check must
report it (``tests/test_site_figures.py``).

Usage: .venv/bin/python tests/fixture_site.py OUT_DIR   (prints the built site's path)
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "site_fixture"
LINKED = ["book/_ext", "book/_static", "book/_locale", "book/references.bib", "_assets"]
NO_ALT_PAGE = "book/no_alt.html"


def assemble(book: Path) -> Path:
    """The fixture pages and the site's configuration, in ``book`` (created)."""
    if book.exists():
        shutil.rmtree(book)
    shutil.copytree(FIXTURE, book)
    for rel in LINKED:
        source = ROOT / rel
        if source.exists():
            (book / rel).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(source, book / rel)
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    return book


def build(out: Path, timeout: int = 900) -> Path:
    """Assemble and build the fixture book under ``out``; returns its ``_build/html``."""
    book = assemble(Path(out) / "book")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))
    env.pop("MPLBACKEND", None)   # the kernel's inline backend, as in the book build: plt.show() shows
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(jupyter_book), "build", "-W", "-n", "--keep-going", str(book)],
                            env=env, capture_output=True, text=True, timeout=timeout)
    site = book / "_build" / "html"
    if result.returncode != 0 or not (site / "search.html").is_file():
        raise RuntimeError(f"the fixture book did not build (exit {result.returncode}):\n"
                           + (result.stdout[-4000:] + result.stderr[-4000:]))
    return site


_BUILT: dict[str, Path] = {}


def built_site(base: Path) -> Path:
    """The fixture site, built once per test process under ``base`` (``$DLDNA_FIXTURE_SITE``: an
    already built ``_build/html`` to use instead, while working on the tests)."""
    prebuilt = os.environ.get("DLDNA_FIXTURE_SITE")
    if prebuilt:
        return Path(prebuilt)
    key = str(base)
    if key not in _BUILT:
        _BUILT[key] = build(Path(base) / "fixture-site")
    return _BUILT[key]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(build(Path(sys.argv[1]).resolve()))
