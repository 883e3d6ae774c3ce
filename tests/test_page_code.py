"""What a page shows as code is teaching code: no plumbing in visible cells, and lines that
fit the site's code column (79 monospace columns at a 1280-px window; a Hangul character
takes two). Glue, claim checks and caching go in hidden cells or in the package."""
from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import sync_notebooks  # noqa: E402

CELL = re.compile(r"```\{code-cell\} ipython3\n(?P<opts>(?::[^\n]*\n)*)\n?(?P<src>.*?)```", re.S)
HIDDEN = ("remove-cell", "remove-input", "colab-setup")
PLUMBING = {
    "glue call": re.compile(r"^\s*glue\(", re.M),
    "cache path": re.compile(r"\brun_dir\b|\btorch\.load\b|\bsave_atomic\b|\bcache_dir\b"),
    "tick-label workaround": re.compile(r"\bFuncFormatter\b|rc_context\("),
}
COLUMNS = 79
PAGES = sync_notebooks.notebook_pages()


def display_width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def visible_cells(page: Path) -> list[str]:
    return [m.group("src") for m in CELL.finditer(page.read_text(encoding="utf-8"))
            if not any(tag in m.group("opts") for tag in HIDDEN)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_visible_cells_hold_no_plumbing(page: Path):
    found = [f"{kind}: {line.strip()[:70]}" for src in visible_cells(page)
             for kind, pattern in PLUMBING.items() for line in src.splitlines() if pattern.search(line)]
    assert found == [], found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_visible_lines_fit_the_code_column(page: Path):
    wide = [f"[{display_width(line)}] {line.strip()[:60]}" for src in visible_cells(page)
            for line in src.splitlines() if display_width(line) > COLUMNS]
    assert wide == [], wide


MAX_CELL_LINES = 45   # "about 40" (issue 29): a visible, unfolded cell is one idea
FOLDED = ("hide-input", "hide-cell")
SOLUTION = re.compile(r"```\{solution-start\}.*?```\{solution-end\}", re.S)


def unfolded_cells(page: Path) -> list[str]:
    """Visible cells a reader sees open: not hidden, not folded, not inside a (collapsed) solution."""
    text = SOLUTION.sub("", page.read_text(encoding="utf-8"))
    return [m.group("src") for m in CELL.finditer(text)
            if not any(tag in m.group("opts") for tag in HIDDEN + FOLDED)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_open_cells_are_short(page: Path):
    long = [f"{len(src.strip().splitlines())} lines: {src.strip().splitlines()[0][:60]}"
            for src in unfolded_cells(page) if len(src.strip().splitlines()) > MAX_CELL_LINES]
    assert long == [], long


HAND_KEPT_KEY = re.compile(r"\bcache_config\s*=|\bpaths_(?:to|from)_state\b|\bcached\(\s*\w+_(?:config|key)\b")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_hand_kept_cache_keys(page: Path):
    """train(..., cache=True) and cached(fn, *args) derive their keys from the call (issue 29):
    a page that writes a key by hand can let it go stale. Hidden cells count too."""
    found = [f"{n}: {line.strip()[:70]}" for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
             if HAND_KEPT_KEY.search(line)]
    assert found == [], found


def test_the_checks_see_hidden_and_visible_cells_apart():
    text = ("```{code-cell} ipython3\n:tags: [remove-cell]\n\nglue('a', 1, display=False)\n```\n"
            "```{code-cell} ipython3\nx = 1\n```\n")
    page = Path(ROOT / "_build" / "_page_code_probe.md")
    page.parent.mkdir(exist_ok=True)
    page.write_text(text, encoding="utf-8")
    try:
        assert visible_cells(page) == ["x = 1\n"]
    finally:
        page.unlink()
    assert display_width("학습률") == 6 and display_width("lr") == 2
    assert HAND_KEPT_KEY.search("train(m, o, l, t, 3, cache_config=key)")
    assert HAND_KEPT_KEY.search("saved = cached(surface_config, measure)")
    assert not HAND_KEPT_KEY.search("train(m, o, l, t, 3, cache=True)")
    assert not HAND_KEPT_KEY.search("cached(sharpness_trajectory, model, x)")
