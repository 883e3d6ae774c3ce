"""Regenerate the paired ``.ipynb`` of each MyST page and store its executed outputs.

The ``.md`` files are the sources the book is built from. Their ``.ipynb`` twins are
what Colab and Binder open, and tests/test_notebook_outputs.py compares their outputs with
the build's execution, so they must hold the
outputs of a plain nbclient execution (Jupyter Book's executed copies drop glue
outputs). This script, for each page given (default: every notebook page in _toc.yml):

1. rewrites the cell tagged ``colab-setup`` from the repository URL in ``_config.yml``;
2. converts the page to ``.ipynb`` with jupytext;
3. executes it with nbclient in the page's folder, quick profile;
4. turns its markdown into what Colab and Jupyter render (``reader_notebook.py``: glued
   values written in, MyST roles and directives as plain markdown, solutions collapsed)
   and saves that notebook with its outputs. It is a generated file, not a jupytext pair.

Usage: .venv/bin/python scripts/sync_notebooks.py [PAGE.md ...] [--no-execute | --reuse-outputs]
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat
import yaml
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reader_notebook  # noqa: E402  (a sibling module of this script)

ROOT = Path(__file__).resolve().parents[1]
SETUP_TAG = "colab-setup"


def repository_url() -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/")


SETUP_TAGS = f"[{SETUP_TAG}, remove-cell]"
SETUP_TITLE = "# @title Colab에서만: 도우미 패키지 설치 (로컬·Binder에서는 아무 일도 하지 않습니다)"


def setup_cell_source(url: str) -> str:
    """The first code cell of every page: in Colab only, install the helper package.

    Plain Python (no ``%pip``): a failed install stops the notebook with a short Korean
    message instead of printing pip's error and carrying on into an ImportError. The site
    removes the cell (tag ``remove-cell``: a reader of the site has nothing to install); in the
    reader notebook its ``# @title`` line makes it one folded line in Colab's form view.
    """
    return (
        SETUP_TITLE + "\n"
        "import subprocess, sys\n"
        "if \"google.colab\" in sys.modules:\n"
        f"    package = \"dldna_helpers @ git+{url}\"\n"
        "    pip = subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", package],\n"
        "                         capture_output=True, text=True)\n"
        "    if pip.returncode != 0:\n"
        "        raise RuntimeError(\"도우미 패키지(dldna_helpers)를 설치하지 못했습니다. 인터넷 연결을 \"\n"
        "                           \"확인하고 이 셀을 다시 실행하세요. pip의 메시지:\\n\" + pip.stderr[-1500:])\n"
    )


def notebook_pages() -> list[Path]:
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    pages = [ROOT / f"{m}.md" for m in re.findall(r"file:\s*(\S+)", toc)]
    root = re.search(r"root:\s*(\S+)", toc)
    if root:
        pages.insert(0, ROOT / f"{root.group(1)}.md")
    return [p for p in pages if p.exists() and "kernelspec:" in p.read_text(encoding="utf-8")[:2000]]


def update_setup_cell(md_path: Path, url: str) -> bool:
    """Rewrite the tagged set-up cell in the .md source; True if the file changed."""
    text = md_path.read_text(encoding="utf-8")
    pattern = re.compile(r"(```\{code-cell\} ipython3\n:tags: )\[" + SETUP_TAG + r"(?:, remove-cell)?\](\n\n)(.*?)(```)",
                         re.S)
    if not pattern.search(text):
        raise SystemExit(f"{md_path}: no code cell tagged [{SETUP_TAG}] (see CONTRIBUTING.md)")
    new = pattern.sub(lambda m: m.group(1) + SETUP_TAGS + m.group(2) + setup_cell_source(url) + m.group(4), text,
                      count=1)
    if new != text:
        md_path.write_text(new, encoding="utf-8")
    return new != text


def page_context(md_path: Path, nb: nbformat.NotebookNode) -> reader_notebook.PageContext:
    """Glued values of the executed ``nb``, the page's equation numbers, titles, references."""
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    return reader_notebook.PageContext(
        glue=reader_notebook.glued_texts(nb),
        equations=reader_notebook.equation_numbers(markdown),
        titles=reader_notebook.page_titles(ROOT),
        bibliography=reader_notebook.read_bibliography(ROOT / "book" / "references.bib"),
        page=md_path.relative_to(ROOT).with_suffix("").as_posix(),
    )


def source_notebook(md_path: Path) -> nbformat.NotebookNode:
    """The page as jupytext reads it (no pairing metadata: the .ipynb is generated)."""
    nb = jupytext.read(md_path)
    nb.metadata.pop("jupytext", None)
    return nb


def reuse_outputs(md_path: Path, nb: nbformat.NotebookNode) -> None:
    """Copy the outputs of the committed notebook into ``nb`` (prose-only edits need no run)."""
    old = nbformat.read(md_path.with_suffix(".ipynb"), as_version=4)
    stored = [c for c in old.cells if c.cell_type == "code"]
    fresh = [c for c in nb.cells if c.cell_type == "code"]

    def code(cell) -> str:   # the set-up cell is generated and prints nothing outside Colab
        return "" if SETUP_TAG in cell.metadata.get("tags", []) else reader_notebook.strip_added_title(cell.source)

    if [code(c) for c in stored] != [code(c) for c in fresh]:
        raise SystemExit(f"{md_path.relative_to(ROOT)}: code cells changed since the last run; "
                         "execute it (drop --reuse-outputs)")
    for cell, old_cell in zip(fresh, stored):
        cell.outputs = old_cell.get("outputs", [])
        cell.execution_count = old_cell.get("execution_count")


def sync(md_path: Path, execute: bool, timeout: int, reuse: bool = False) -> None:
    url = repository_url()
    update_setup_cell(md_path, url)
    nb = source_notebook(md_path)
    if reuse:
        reuse_outputs(md_path, nb)
    elif execute:
        env_backup = dict(os.environ)
        os.environ.setdefault("DLDNA_PROFILE", "quick")
        os.environ.setdefault("DLDNA_STRICT_CLAIMS", "1")  # committed outputs hold every claim
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see scripts/build_book.sh
        start = time.perf_counter()
        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(md_path.parent)}}).execute()
        finally:
            os.environ.clear()
            os.environ.update(env_backup)
        print(f"{md_path.relative_to(ROOT)}: executed in {time.perf_counter() - start:.0f} s")
    reader = reader_notebook.reader_notebook(nb, page_context(md_path, nb))
    out = md_path.with_suffix(".ipynb")
    nbformat.write(reader, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", type=Path)
    parser.add_argument("--no-execute", action="store_true", help="convert only (no outputs)")
    parser.add_argument("--reuse-outputs", action="store_true",
                        help="keep the committed outputs (for edits of the prose only; refused if code changed)")
    parser.add_argument("--timeout", type=int, default=900, help="per-cell timeout in seconds")
    args = parser.parse_args()
    pages = [p.resolve() for p in args.pages] or notebook_pages()
    for page in pages:
        if page.suffix != ".md" or not page.exists():
            sys.exit(f"not a MyST page: {page}")
        sync(page, execute=not args.no_execute, timeout=args.timeout, reuse=args.reuse_outputs)


if __name__ == "__main__":
    main()
