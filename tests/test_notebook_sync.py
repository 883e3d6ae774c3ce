"""Each MyST page and the notebook generated from it (what Colab, Binder and Thebe open, and
whose stored outputs tests/test_notebook_outputs.py checks) agree, and that notebook reads like the site: plain markdown, the site's
numbers written in, solutions collapsed."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
spec = importlib.util.spec_from_file_location("sync_notebooks", ROOT / "scripts" / "sync_notebooks.py")
sync = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sync)
import reader_notebook  # noqa: E402

PAGES = sync.notebook_pages()
EXERCISE_PAGES = [p for p in PAGES if p.parent.name == "exercises"]
MYST_LEFTOVERS = {
    "glue": re.compile(r"\{glue[:a-z]*\}"),
    "role": re.compile(r"\{[a-z][a-z:-]*\}`"),
    "directive": re.compile(r"^\s*(?:>\s*)*(?:`{3,}|:{3,})\{", re.M),
    "target": re.compile(r"^\([\w:.-]+\)=\s*$", re.M),
}
ids = lambda p: p.relative_to(ROOT).as_posix()  # noqa: E731


def _reader(page: Path) -> nbformat.NotebookNode:
    ipynb = page.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run scripts/sync_notebooks.py {page.relative_to(ROOT)}"
    return nbformat.read(ipynb, as_version=4)


def test_every_chapter_page_is_a_notebook():
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    assert {"book/intro.md", "book/pipeline.md"} <= names
    assert len(EXERCISE_PAGES) == 3


@pytest.mark.parametrize("page", PAGES, ids=ids)
def test_reader_notebook_is_generated_from_the_source_and_holds_outputs(page: Path):
    reader = _reader(page)
    source = sync.source_notebook(page)
    code = [c for c in reader.cells if c.cell_type == "code"]
    source_code = [c for c in source.cells if c.cell_type == "code"]
    assert [reader_notebook.strip_added_title(c.source) for c in code] == [c.source for c in source_code], \
        f"{page.name}: code cells differ from the source: re-run scripts/sync_notebooks.py"
    # the markdown is what the converter makes of the source with these very outputs
    sync.reuse_outputs(page, source)
    expected = reader_notebook.reader_notebook(source, sync.page_context(page, source))
    strip = lambda nb: [(c.cell_type, c.source.strip()) for c in nb.cells]  # noqa: E731
    assert strip(reader) == strip(expected), f"{page.name} is stale: re-run scripts/sync_notebooks.py"
    assert "jupytext" not in reader.metadata, "a generated notebook must not pair with (and overwrite) the .md"
    assert any(c.get("outputs") for c in code), f"{page.name} was committed without outputs"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{page.name} holds an error output"


@pytest.mark.parametrize("page", PAGES, ids=ids)
def test_reader_markdown_has_no_myst_markup(page: Path):
    markdown = "\n\n".join(c.source for c in _reader(page).cells if c.cell_type == "markdown")
    found = {kind: pattern.findall(markdown) for kind, pattern in MYST_LEFTOVERS.items()}
    assert {k: v for k, v in found.items() if v} == {}
    assert reader_notebook.READER_NOTE in markdown  # says where the numbers of the prose come from


@pytest.mark.parametrize("page", EXERCISE_PAGES, ids=ids)
def test_solutions_are_collapsed(page: Path):
    text = page.read_text(encoding="utf-8")
    n_solutions = len(re.findall(r"^```\{solution-start\}", text, re.M))
    solution_code = sum(len(re.findall(r"^```\{code-cell\}", part, re.M))
                        for part in re.findall(r"```\{solution-start\}.*?```\{solution-end\}", text, re.S))
    reader = _reader(page)
    hidden = [c for c in reader.cells if c.cell_type == "code"
              and c.metadata.get("jupyter", {}).get("outputs_hidden")]
    assert n_solutions >= 3 and len(hidden) == solution_code
    for cell in hidden:
        assert cell.metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
        assert cell.metadata["cellView"] == "form"
        assert cell.source.startswith(reader_notebook.SOLUTION_CODE_TITLE)  # Colab's form view hides the code
    markdown = "\n".join(c.source for c in reader.cells if c.cell_type == "markdown")
    assert markdown.count(f"<summary>{reader_notebook.SOLUTION_SUMMARY}</summary>") == n_solutions


@pytest.mark.parametrize("page", PAGES, ids=ids)
def test_colab_cell_installs_from_the_configured_repository(page: Path):
    nb = _reader(page)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert sync.SETUP_TAG in first_code.metadata.get("tags", []), "first code cell must be the Colab set-up cell"
    assert first_code.source.strip() == sync.setup_cell_source(sync.repository_url()).strip()


@pytest.mark.parametrize("page", PAGES, ids=ids)
def test_committed_outputs_hold_no_stderr(page: Path):
    """The build runs with -W, and myst-nb turns any stderr output (a warning a cell printed) into
    a build warning: the committed outputs must be free of it too, so it is caught here, fast."""
    found = [f"cell {n}: {''.join(o.get('text', ''))[:120]}" for n, cell in enumerate(_reader(page).cells)
             for o in cell.get("outputs", []) if o.get("name") == "stderr"]
    assert found == [], found
