"""The built pages read on a phone: at a 390-pixel-wide window (light and dark), no display
equation is wider than the text column, so no term of an equation hides behind a sideways
scroll (long equations are split over lines with aligned/split)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser_utils import Browser, require_chromium, serve_folder

require_chromium()   # skipped without Chromium locally, a failure under CI=true

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("DLDNA_SITE_DIR", ROOT / "_build" / "html"))
PHONE = (390, 844)
pytestmark = pytest.mark.browser

# Every display equation (MathJax 3 CHTML) whose content is wider than the box it sits in.
WIDE_EQUATIONS_JS = """() => Array.from(document.querySelectorAll('mjx-container[display="true"]'))
  .map(m => {
    const box = m.closest('div.math') || m.parentElement;
    return {label: (box.id || '').replace('equation-', '') || box.textContent.slice(0, 40),
            content: m.scrollWidth, column: box.clientWidth};
  })
  .filter(r => r.content > r.column + 1)"""


def math_pages() -> list[str]:
    if not (SITE / "search.html").is_file():
        return ["(no built site)"]
    pages = []
    for path in sorted([*SITE.glob("book/*.html"), *SITE.glob("exercises/*.html")]):
        if "\\[" in path.read_text(encoding="utf-8", errors="replace"):
            pages.append(path.relative_to(SITE).as_posix())
    return pages


@pytest.fixture(scope="module")
def phone():
    if not (SITE / "search.html").is_file():
        pytest.fail(f"no built book at {SITE}: build it first with `bash scripts/build_book.sh`")
    with serve_folder(SITE) as base, Browser(viewport=PHONE) as browser:
        yield base, browser


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("page", math_pages())
def test_display_equations_fit_a_phone_column(phone, page, scheme):
    base, browser = phone
    visit = browser.open(f"{base}/{page}", color_scheme=scheme)
    try:
        count = visit.page.evaluate("() => document.querySelectorAll('mjx-container[display=\"true\"]').length")
        wide = visit.page.evaluate(WIDE_EQUATIONS_JS)
    finally:
        browser.close_page(visit)
    assert count > 0, f"{page}: MathJax typeset no display equation"
    assert wide == [], f"{page} at {PHONE[0]} px ({scheme}): equations wider than the column: {wide}"
