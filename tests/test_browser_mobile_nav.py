"""Phone and tablet navigation, tapped as a reader taps it (issue 27, item 1).

In a mobile-emulated Chromium (``is_mobile``, ``has_touch``) at 390, 768 and 900 px, the visible
☰ button opens the book's table of contents and the visible ☷ button the page's; a tap outside
the open menu closes it again. (The theme bound its handlers to hidden header buttons only:
below 992 px the visible buttons did nothing, and the sidebar stayed off screen at x = −292 px.)
At 1280 px the visible ☰ button still hides and shows the sidebar.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser_utils import Browser, require_chromium, serve_folder

require_chromium()   # skipped without Chromium locally, a failure under CI=true

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("DLDNA_SITE_DIR", ROOT / "_build" / "html"))
PAGE = "book/pipeline.html"   # a chapter page: both menus exist
MENUS = {"primary": ("#pst-primary-sidebar-modal", "nav.bd-docs-nav a.reference"),
         "secondary": ("#pst-secondary-sidebar-modal", "nav.page-toc a, .bd-toc-nav a")}
pytestmark = pytest.mark.browser

SHOWN_JS = """([dialog, link]) => {
  const d = document.querySelector(dialog);
  if (!d || !d.open) return {open: false, visibleLinks: 0};
  const inside = [...d.querySelectorAll(link)].filter((a) => {
    const r = a.getBoundingClientRect();
    return r.width > 0 && r.right > 0 && r.left < window.innerWidth && r.top < window.innerHeight && r.bottom > 0;
  });
  const box = d.getBoundingClientRect();
  return {open: true, visibleLinks: inside.length, left: box.left, right: box.right};
}"""


@pytest.fixture(scope="module")
def base():
    if not (SITE / PAGE).is_file():
        pytest.fail(f"no built book at {SITE}: build it first with `bash scripts/build_book.sh`")
    with serve_folder(SITE) as url:
        yield url


def visible_toggle(page, menu: str):
    buttons = page.locator(f".{menu}-toggle")
    shown = [buttons.nth(i) for i in range(buttons.count()) if buttons.nth(i).is_visible()]
    assert len(shown) == 1, f"{len(shown)} visible {menu} menu buttons"
    return shown[0]


@pytest.mark.parametrize("menu", ["primary", "secondary"])
@pytest.mark.parametrize("width", [390, 768, 900])
def test_a_tap_opens_the_menu_and_a_tap_outside_closes_it(base, width, menu):
    dialog, link = MENUS[menu]
    with Browser(viewport=(width, 844), mobile=True) as browser:
        visit = browser.open(f"{base}/{PAGE}")
        page = visit.page
        try:
            visible_toggle(page, menu).tap()
            page.wait_for_function("(d) => document.querySelector(d) && document.querySelector(d).open", arg=dialog,
                                   timeout=5000)
            page.wait_for_timeout(400)   # the slide-in transition
            shown = page.evaluate(SHOWN_JS, [dialog, link])
            assert shown["open"] and shown["visibleLinks"] > 0, f"{menu} menu at {width} px: {shown}"
            # tap the dimmed page beside the menu
            x = width - 10 if menu == "primary" else 10
            assert not (shown["left"] <= x <= shown["right"]), f"no room beside the {menu} menu at {width} px"
            page.touchscreen.tap(x, 420)
            page.wait_for_function("(d) => !document.querySelector(d).open", arg=dialog, timeout=5000)
            problems = visit.problems()
        finally:
            browser.close_page(visit)
    assert problems == []


def test_the_menu_button_still_hides_the_sidebar_on_a_wide_screen(base):
    with Browser(viewport=(1280, 900)) as browser:
        visit = browser.open(f"{base}/{PAGE}")
        try:
            hidden = "() => document.getElementById('pst-primary-sidebar').classList.contains('pst-sidebar-hidden')"
            assert not visit.page.evaluate(hidden)
            visible_toggle(visit.page, "primary").click()
            assert visit.page.evaluate(hidden)
            visible_toggle(visit.page, "primary").click()
            assert not visit.page.evaluate(hidden)
        finally:
            browser.close_page(visit)
