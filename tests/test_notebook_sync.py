"""Each MyST page and its paired .ipynb (what Colab opens and nbval checks) agree."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("sync_notebooks", ROOT / "scripts" / "sync_notebooks.py")
sync = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sync)

PAGES = sync.notebook_pages()


def test_every_chapter_page_is_a_notebook():
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    assert {"book/intro.md", "book/pipeline.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_paired_notebook_matches_source_and_holds_outputs(page: Path):
    ipynb = page.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run scripts/sync_notebooks.py {page.relative_to(ROOT)}"
    source = jupytext.read(page)
    paired = nbformat.read(ipynb, as_version=4)
    strip = lambda nb: [(c.cell_type, c.source.strip()) for c in nb.cells]  # noqa: E731
    assert strip(paired) == strip(source), f"{ipynb.name} is stale: re-run scripts/sync_notebooks.py"
    code = [c for c in paired.cells if c.cell_type == "code"]
    assert any(c.get("outputs") for c in code), f"{ipynb.name} was committed without outputs"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{ipynb.name} holds an error output"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_colab_cell_installs_from_the_configured_repository(page: Path):
    nb = nbformat.read(page.with_suffix(".ipynb"), as_version=4)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert sync.SETUP_TAG in first_code.metadata.get("tags", []), "first code cell must be the Colab set-up cell"
    assert first_code.source.strip() == sync.setup_cell_source(sync.repository_url()).strip()
