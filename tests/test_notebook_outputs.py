"""The committed reader notebooks hold what the code produces now.

Colab and Binder open each page's ``.ipynb`` with its stored outputs, so every stored output must
be what this commit's code prints. The book build has just executed every page afresh
(``scripts/execute_pages.py``: nbclient, the page's own kernel, an empty run cache under CI) and
kept each executed notebook in its jupyter-cache (``_build/.jupyter_cache``). This test compares,
cell by cell, the outputs stored in the ``.ipynb`` with those of that execution, the way nbval
compares (text, HTML, LaTeX and the other text forms after the substitutions of
``tests/nbval_sanitize.cfg``; images, widget ids, metadata and execution counts are not compared;
a cell tagged ``nbval-ignore-output``, such as a wall-clock table, is skipped).

It replaced nbval's re-execution of every notebook: that ran each page a second time only to read
the build's run cache back, about four minutes of CI, and compared the same outputs. The code cells
of the ``.ipynb`` equal the page's (``tests/test_notebook_sync.py``), so the build executed exactly
the code a reader runs; that a notebook also runs alone in a reader's environment is
``tests/test_clean_install.py``.
"""
from __future__ import annotations

import configparser
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from execute_pages import read_as_myst_nb  # noqa: E402
from reader_notebook import strip_added_title  # noqa: E402
from sync_notebooks import notebook_pages  # noqa: E402

CACHE = Path(os.environ.get("DLDNA_BUILD_CACHE", ROOT / "_build" / ".jupyter_cache"))
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
IGNORE_TAG = "nbval-ignore-output"
NOT_COMPARED = {"image/png", "image/jpeg", "application/vnd.jupyter.widget-view+json"}


def substitutions(path: Path = SANITIZE) -> list[tuple[re.Pattern, str]]:
    """The (pattern, replacement) pairs of an nbval sanitize file, in order."""
    parser = configparser.ConfigParser()
    if not parser.read(path, encoding="utf-8"):
        raise FileNotFoundError(f"no sanitize file at {path}")
    return [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]


def comparable(outputs: list, subs: list[tuple[re.Pattern, str]]) -> dict[str, list[str]]:
    """What of a cell's outputs is compared: each text form, sanitized, in order; the streams
    joined per stream name (a print may arrive in one message or several)."""
    def clean(text) -> str:
        text = "".join(text) if isinstance(text, list) else str(text)
        for pattern, replacement in subs:
            text = pattern.sub(replacement, text)
        return text

    found: dict[str, list[str]] = {}
    streams: dict[str, str] = {}
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            streams[out["name"]] = streams.get(out["name"], "") + "".join(out.get("text", ""))
        elif kind in ("display_data", "execute_result"):
            for mime, value in out.get("data", {}).items():
                if mime not in NOT_COMPARED:
                    found.setdefault(mime, []).append(clean(value))
        elif kind == "error":
            found.setdefault("error", []).append(f"{out.get('ename')}: {out.get('evalue')}")
    for name, text in streams.items():
        found[f"stream:{name}"] = [clean(text)]
    return found


def output_differences(stored: nbformat.NotebookNode, executed: nbformat.NotebookNode,
                       subs: list[tuple[re.Pattern, str]]) -> list[str]:
    """Where the stored notebook's outputs differ from the executed notebook's (empty: none).
    Both must hold the same code cells; a cell tagged ``nbval-ignore-output`` is not compared."""
    old = [c for c in stored.cells if c.cell_type == "code"]
    new = [c for c in executed.cells if c.cell_type == "code"]
    if [strip_added_title(c.source) for c in old] != [c.source for c in new]:
        return ["the code cells differ from the executed page: re-run scripts/sync_notebooks.py "
                "(or the build is older than the page: build again)"]
    problems = []
    for number, (a, b) in enumerate(zip(old, new), start=1):
        if IGNORE_TAG in a.metadata.get("tags", []):
            continue
        was, now = comparable(a.get("outputs", []), subs), comparable(b.get("outputs", []), subs)
        head = strip_added_title(a.source).strip().splitlines()[:1] or [""]
        for key in sorted(set(was) | set(now)):
            if was.get(key) != now.get(key):
                problems.append(f"code cell {number} ({head[0][:60]}) {key}:\n  stored:   {str(was.get(key))[:400]}"
                                f"\n  executed: {str(now.get(key))[:400]}")
    return problems


def executed_notebook(page: Path) -> nbformat.NotebookNode:
    """The build's execution of ``page``, from the jupyter-cache ``scripts/execute_pages.py`` filled."""
    from jupyter_cache import get_cache

    if not CACHE.is_dir():
        pytest.fail(f"no executed pages in {CACHE}: build the book first with `bash scripts/build_book.sh`")
    cache = get_cache(str(CACHE))
    try:
        record = cache.match_cache_notebook(read_as_myst_nb(page))
    except KeyError:
        pytest.fail(f"{page.relative_to(ROOT)} changed after the build (no cached execution of its "
                    "code): build the book again")
    return cache.get_cache_bundle(record.pk).nb


@pytest.mark.parametrize("page", notebook_pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_stored_outputs_are_what_the_build_executed(page: Path):
    stored = nbformat.read(page.with_suffix(".ipynb"), as_version=4)
    problems = output_differences(stored, executed_notebook(page), substitutions())
    assert not problems, (f"{page.with_suffix('.ipynb').relative_to(ROOT)} holds outputs this code does not "
                          f"produce; run scripts/sync_notebooks.py {page.relative_to(ROOT)}:\n" + "\n".join(problems))


def _cell(source: str, outputs: list, tags: list[str] | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, outputs=[nbformat.from_dict(o) for o in outputs])
    if tags:
        cell.metadata["tags"] = tags
    return cell


def _notebook(*cells) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=list(cells))


def test_a_changed_number_is_found_and_what_is_not_compared_is_not():
    subs = substitutions()
    text = lambda s: {"output_type": "stream", "name": "stdout", "text": s}  # noqa: E731
    html = lambda s: {"output_type": "display_data", "data": {"text/html": s, "image/png": "AAAA"},  # noqa: E731
                      "metadata": {}}
    stored = _notebook(_cell("print(a)", [text("오차율 12.5%\n")]), _cell("show()", [html("<td>0.31</td>")]),
                       _cell("time()", [text("3.2 s 걸림\n")]), _cell("t", [text("1.1\n")], tags=[IGNORE_TAG]))
    same = _notebook(_cell("print(a)", [text("오차율 "), text("12.5%\n")]),
                     _cell("show()", [{**html("<td>0.31</td>"), "data": {"text/html": "<td>0.31</td>",
                                                                         "image/png": "BBBB"}}]),
                     _cell("time()", [text("0.4 s 걸림\n")]), _cell("t", [text("9.9\n")]))
    assert output_differences(stored, same, subs) == []
    changed = _notebook(_cell("print(a)", [text("오차율 12.6%\n")]), _cell("show()", [html("<td>0.31</td>")]),
                        _cell("time()", [text("3.2 s 걸림\n")]), _cell("t", [text("1.1\n")]))
    problems = output_differences(stored, changed, subs)
    assert len(problems) == 1 and "code cell 1" in problems[0] and "12.6%" in problems[0]
    extra = _notebook(*changed.cells[:1], _cell("show()", [html("<td>0.31</td>"), html("<td>0.32</td>")]),
                      *changed.cells[2:])
    assert any("code cell 2" in p for p in output_differences(stored, extra, subs))
    other_code = _notebook(_cell("print(b)", [text("오차율 12.5%\n")]), *stored.cells[1:])
    assert "code cells differ" in output_differences(stored, other_code, subs)[0]


def test_a_missing_sanitize_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no sanitize file"):
        substitutions(tmp_path / "none.cfg")
