"""The built pages read on a phone: 390 × 844 with touch, device scale 3 (Chromium's mobile
emulation: ``is_mobile``, ``has_touch``), light and dark.

What the reader sees is measured, not the markup:

* every display equation fits in the article, or scrolls in its own box that shows it scrolls
  (shadows at the edge that has more): the equation's visible right edge — its box's, when it
  scrolls — and its number are inside the article's visible right edge;
* the page itself never scrolls sideways (nor zooms out to fit something too wide);
* Korean words are never broken inside (``word-break: keep-all``): every run of Hangul in
  headings, paragraphs, list items, table cells and captions lies on one line;
* a screenshot of every page (full length, light and dark) goes to ``screenshots/phone/`` for a
  person to look at (not under CI, which keeps no files, unless ``$DLDNA_SCREENSHOTS`` names a folder).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser_utils import PHONE, Browser, require_chromium, serve_folder, site_pages

require_chromium()   # skipped without Chromium locally, a failure under CI=true

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("DLDNA_SITE_DIR", ROOT / "_build" / "html"))
SHOTS = Path(os.environ.get("DLDNA_SCREENSHOTS", ROOT / "screenshots")) / "phone"
pytestmark = pytest.mark.browser

READING_JS = r"""() => {
  const article = document.querySelector("article.bd-article") || document.querySelector("main");
  const edge = Math.min(article.getBoundingClientRect().right, document.documentElement.clientWidth);
  const equations = [...document.querySelectorAll('mjx-container[display="true"]')].map((m) => {
    const box = m.getBoundingClientRect();
    const math = m.querySelector("mjx-math") || m;
    const content = math.getBoundingClientRect();
    const style = getComputedStyle(m);
    const scrolls = m.scrollWidth > m.clientWidth + 1 && ["auto", "scroll"].includes(style.overflowX);
    const holder = m.closest("div.math");
    const number = holder && holder.querySelector(".eqno");
    return {
      label: holder ? (holder.id || "").replace("equation-", "") || holder.textContent.slice(0, 30) : "",
      visibleRight: Math.round(scrolls ? box.right : content.right),
      numberRight: number ? Math.round(number.getBoundingClientRect().right) : 0,
      scrolls,
      cue: scrolls ? m.classList.contains("dldna-scrolls") && /gradient/.test(style.backgroundImage) : true,
    };
  });
  const broken = [];
  const skip = "pre, code, script, style, mjx-container, .math, .highlight, svg, .dldna-skip";
  for (const el of article.querySelectorAll("h1, h2, h3, h4, p, li, th, td, figcaption, dt, dd")) {
    if (el.closest(skip) || el.getBoundingClientRect().width === 0) continue;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (const match of node.nodeValue.matchAll(/[가-힣]{2,}/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(match[0]);
      }
    }
  }
  return {
    edge: Math.round(edge),
    equations,
    pageWidth: document.documentElement.scrollWidth,
    viewportWidth: document.documentElement.clientWidth,
    scale: window.visualViewport ? window.visualViewport.scale : 1,
    broken: [...new Set(broken)].slice(0, 10),
  };
}"""


def phone_pages() -> list[str]:
    return [p for p in site_pages(SITE) if p.startswith(("book/", "exercises/"))] or ["(no built site)"]


@pytest.fixture(scope="module")
def phone():
    if not (SITE / "search.html").is_file():
        pytest.fail(f"no built book at {SITE}: build it first with `bash scripts/build_book.sh`")
    with serve_folder(SITE) as base, Browser(viewport=PHONE, mobile=True) as browser:
        yield base, browser


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("page", phone_pages())
def test_a_phone_reader_sees_whole_equations_words_and_pages(phone, page, scheme):
    base, browser = phone
    facts, problems = browser.evaluate(f"{base}/{page}", lambda p: p.evaluate(READING_JS), color_scheme=scheme)
    where = f"{page} at {PHONE[0]} px ({scheme})"
    assert problems == [], f"{where}: {problems}"
    cut = [e for e in facts["equations"] if e["visibleRight"] > facts["edge"] + 1 or e["numberRight"] > facts["edge"] + 1]
    assert cut == [], f"{where}: equations past the article's right edge ({facts['edge']} px): {cut}"
    silent = [e["label"] for e in facts["equations"] if not e["cue"]]
    assert silent == [], f"{where}: equations that scroll without showing it: {silent}"
    assert facts["pageWidth"] <= facts["viewportWidth"] + 1 and facts["scale"] == 1, \
        f"{where}: the page is {facts['pageWidth']} px wide in a {facts['viewportWidth']} px screen"
    assert facts["broken"] == [], f"{where}: Korean words broken across lines: {facts['broken']}"


@pytest.mark.skipif(os.environ.get("CI", "").lower() in ("1", "true") and not os.environ.get("DLDNA_SCREENSHOTS"),
                    reason="screenshots are for a person to look at, and CI keeps no files "
                           "(set DLDNA_SCREENSHOTS=<folder> to take them there)")
def test_screenshots_of_every_page_at_phone_width(phone):
    """Full-length screenshots (one pixel per CSS pixel, to keep them small) for a person to look at."""
    base, browser = phone
    SHOTS.mkdir(parents=True, exist_ok=True)
    for page in phone_pages():
        for scheme in ("light", "dark"):
            visit = browser.open(f"{base}/{page}", color_scheme=scheme)
            try:
                visit.page.evaluate("""async () => {   // let lazy figures load before the shot
                    for (const img of document.querySelectorAll("img[loading=lazy]")) img.loading = "eager";
                    await Promise.all([...document.images].map((i) => i.complete ? null :
                        new Promise((ok) => { i.onload = i.onerror = ok; setTimeout(ok, 10000); })));
                }""")
                name = page.replace("/", "__")[:-5] + f"__{scheme}.png"
                visit.page.screenshot(path=str(SHOTS / name), full_page=True, scale="css")
            finally:
                browser.close_page(visit)
    assert len(list(SHOTS.glob("*.png"))) >= 2 * len(phone_pages())
