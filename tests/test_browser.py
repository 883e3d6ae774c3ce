"""The built site as a reader meets it, checked in headless Chromium (Debian's).

Runs after the book build (scripts/run_tests.sh builds first) and never builds the book
itself: without ``_build/html`` every test here fails and says how to build it.
``DLDNA_SITE_DIR`` points the tests at another built site. For every page: it loads with
no JavaScript error and no failed or off-site request (the site must work offline), math
is typeset by the vendored MathJax with no raw TeX left and no MathJax error (an error node
or an undefined macro shown in red), every image loads, no output
holds a traceback, download buttons (and on notebook pages launch buttons whose Colab link
opens the paired .ipynb) are there, and no page saves ipywidgets views (the site ships no widget
manager: sliders and checkers are HTML/JavaScript). The search page finds pages for
two-syllable Korean queries. A screenshot of each page goes to ``screenshots/``
(``DLDNA_SCREENSHOTS`` overrides) for a person to look at.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from browser_utils import Browser, require_chromium, serve_folder

require_chromium()   # skipped without Chromium locally, a failure under CI=true

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("DLDNA_SITE_DIR", ROOT / "_build" / "html"))
SHOTS = Path(os.environ.get("DLDNA_SCREENSHOTS", ROOT / "screenshots"))
NOT_PAGES = {"_static", "_sources", "_images", "vendor", "_sphinx_design_static"}
MISSING = "(no built site)"
MAX_CODE_SHARE = 0.30   # of a page's height at the desktop width (issue 29)

pytestmark = pytest.mark.browser


def site_pages() -> list[str]:
    """Every HTML page of the built site (relative paths), redirects and search excluded."""
    if not (SITE / "search.html").is_file():
        return [MISSING]
    pages = []
    for path in sorted(SITE.rglob("*.html")):
        rel = path.relative_to(SITE)
        if rel.parts[0] in NOT_PAGES or rel.as_posix() == "search.html":
            continue
        if re.search(r'http-equiv="refresh"', path.read_text(encoding="utf-8", errors="replace")[:2000], re.I):
            continue  # the root index.html only redirects to the first chapter
        pages.append(rel.as_posix())
    return pages


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "search.html").is_file():
        pytest.fail(f"no built book at {SITE}: build it first with `bash scripts/build_book.sh` "
                    "(scripts/run_tests.sh does this before pytest); the browser tests do not build it")
    return SITE


@pytest.fixture(scope="module")
def base_url(site):
    with serve_folder(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser(site):
    with Browser() as b:
        yield b


def expected_figures(site: Path, page_path: str) -> int:
    """How many figures the page's source shows with plt.show() or figures.show(...) (0 for
    non-notebook pages; a call in a loop counts once, so this is a lower bound)."""
    source = site / "_sources" / (page_path[:-5] + ".md")
    if not source.is_file():
        return 0
    text = source.read_text(encoding="utf-8")
    return text.count("plt.show()") + len(re.findall(r"(?<![\w.])show\(\s*fig", text)) \
        + len(re.findall(r"\bfigures\.show\(", text))


# One evaluation per page gathers what the checks need (after images have settled).
PAGE_FACTS_JS = r"""
async () => {
  window.scrollTo(0, document.body.scrollHeight);
  const main = document.querySelector("main") || document.body;
  const imgs = [...main.querySelectorAll("img")];
  // a lazy image inside a closed <details> (a folded solution) never loads on its own: ask for all
  imgs.forEach((img) => { if (img.loading === "lazy") img.loading = "eager"; });
  await Promise.all(imgs.map((img) => img.complete ? null : new Promise((done) => {
    img.addEventListener("load", done); img.addEventListener("error", done); setTimeout(done, 15000);
  })));
  const skip = "pre, code, script, style, textarea, mjx-container, .highlight";
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  const rawTex = [];
  while (walker.nextNode()) {
    const t = walker.currentNode.nodeValue;
    if (/\\\(|\\\[|\$\$/.test(t)) rawTex.push(t.trim().slice(0, 80));
  }
  const maths = [...main.querySelectorAll(".math")];
  // TeX that MathJax could not make sense of: an error node (e.g. "Missing argument for \\frac"),
  // or an undefined macro, which the noundefined extension shows as its name in red
  const mathErrors = [...main.querySelectorAll("mjx-merror")].map((e) => e.getAttribute("data-mjx-error"));
  for (const item of (window.MathJax && MathJax.startup && MathJax.startup.document
                      ? MathJax.startup.document.math : [])) {
    const mml = MathJax.startup.toMML(item.root);
    if (/<merror|<mtext[^>]*mathcolor="red"[^>]*>\\/.test(mml)) mathErrors.push(item.math.slice(0, 80));
  }
  const outputs = [...main.querySelectorAll(".cell_output, .output")];
  const launch = [...document.querySelectorAll(".dropdown-launch-buttons a")].map((a) => a.href);
  // code the reader sees: cell inputs rendered now (a folded hide-input cell or a closed solution
  // is not; its <details> content keeps an offsetParent, so visibility is asked, not inferred)
  const article = document.querySelector("article.bd-article") || main;
  const codePx = [...article.querySelectorAll(".cell_input")]
    .filter((c) => c.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true}))
    .reduce((sum, c) => sum + c.getBoundingClientRect().height, 0);
  window.scrollTo(0, 0);  // full-page screenshots are composed from the top
  return {
    outputImages: main.querySelectorAll(".cell_output img").length,
    brokenImages: imgs.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.getAttribute("src")),
    images: imgs.length,
    maths: maths.length,
    mathErrors,
    untypeset: maths.filter((m) => !m.querySelector("mjx-container")).map((m) => m.textContent.slice(0, 60)),
    rawTex,
    tracebacks: outputs.filter((o) => o.classList.contains("traceback")
      || /Traceback \(most recent call last\)/.test(o.innerText)).map((o) => o.innerText.slice(0, 200)),
    notebook: main.querySelectorAll("div.cell").length > 0,
    download: document.querySelectorAll(".dropdown-download-buttons a, .dropdown-download-buttons button").length,
    launch,
    widgetViews: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
    widgetsRendered: document.querySelectorAll(".jupyter-widgets, .widget-container, .widget-box").length,
    codePx,
    articlePx: article.getBoundingClientRect().height,
  };
}
"""


@pytest.mark.parametrize("page_path", site_pages())
def test_page(page_path, site, base_url, browser):
    visit = browser.open(f"{base_url}/{quote(page_path)}")
    try:
        facts = visit.page.evaluate(PAGE_FACTS_JS)
        SHOTS.mkdir(parents=True, exist_ok=True)
        visit.page.screenshot(path=str(SHOTS / (page_path.replace("/", "__")[:-5] + ".png")), full_page=True)
        problems = visit.problems()
    finally:
        browser.close_page(visit)

    assert problems == [], f"{page_path}: " + "; ".join(problems)
    assert facts["brokenImages"] == [], f"{page_path}: images that did not load: {facts['brokenImages']}"
    assert facts["untypeset"] == [], f"{page_path}: math not typeset by MathJax: {facts['untypeset']}"
    assert facts["rawTex"] == [], f"{page_path}: raw TeX in the text: {facts['rawTex']}"
    assert facts["mathErrors"] == [], f"{page_path}: MathJax could not typeset: {facts['mathErrors']}"
    assert facts["tracebacks"] == [], f"{page_path}: an output holds a traceback: {facts['tracebacks']}"
    shown = expected_figures(site, page_path)
    assert facts["outputImages"] >= shown, (
        f"{page_path}: the source shows {shown} figure(s) (plt.show(), figures.show) but the page has "
        f"{facts['outputImages']} output image(s); was the book built with MPLBACKEND=Agg?")
    if (site / "_sources" / (page_path[:-5] + ".md")).is_file():  # genindex has no source
        assert facts["download"] >= 2, f"{page_path}: no download buttons"
    if facts["notebook"]:
        hosts = " ".join(facts["launch"])
        assert "mybinder.org" in hosts and "colab.research.google.com" in hosts, \
            f"{page_path}: launch buttons missing (found {facts['launch']})"
        colab = next(u for u in facts["launch"] if "colab.research.google.com" in u)
        rel = colab.split("/blob/", 1)[1].split("/", 1)[1]
        assert rel.endswith(".ipynb") and (ROOT / rel).is_file(), \
            f"{page_path}: the Colab button opens {rel}, which is not a notebook in the repository"
    # the page is prose, figures and tables first: open code at most 30% of its height at 1280 px
    share = facts["codePx"] / max(facts["articlePx"], 1)
    assert share <= MAX_CODE_SHARE, (
        f"{page_path}: open code cells take {share:.0%} of the page's height ({facts['codePx']:.0f} of "
        f"{facts['articlePx']:.0f} px at 1280 px); fold plotting and table code with the hide-input tag")
    assert facts["widgetViews"] == 0, (
        f"{page_path}: saves ipywidgets views, which the site no longer ships a widget manager for "
        "(interactive outputs are HTML/JavaScript: dldna_helpers.widgets)")


@pytest.mark.parametrize("query", ["손실", "학습"])
def test_search_finds_two_syllable_korean_words(query, site, base_url, browser):
    """Type the query into the search page's box as a reader would; results must appear."""
    visit = browser.open(f"{base_url}/search.html", wait_for_math=False)
    try:
        box = visit.page.locator(".bd-search-container input[name=q]")
        box.fill(query)
        box.press("Enter")
        visit.page.wait_for_selector("ul.search li", timeout=30_000)
        hits = visit.page.locator("ul.search li").count()
        SHOTS.mkdir(parents=True, exist_ok=True)
        visit.page.screenshot(path=str(SHOTS / f"search_{query}.png"))
        problems = visit.problems()
    finally:
        browser.close_page(visit)
    assert hits > 0, f"search for {query!r} found nothing"
    assert problems == []


def test_dark_mode_gives_figures_a_light_background(site, base_url, browser):
    """Matplotlib figures have dark text; in dark mode they sit on a white card."""
    page_path = next((p for p in site_pages() if "_images/" in (site / p).read_text(encoding="utf-8")), None)
    if page_path is None:
        pytest.fail("no page of the built site shows a figure from a cell output")
    visit = browser.open(f"{base_url}/{quote(page_path)}", color_scheme="dark")
    try:
        theme = visit.page.evaluate("() => document.documentElement.dataset.theme")
        background = visit.page.evaluate(
            "() => getComputedStyle(document.querySelector('.cell_output img')).backgroundColor")
        SHOTS.mkdir(parents=True, exist_ok=True)
        figure = visit.page.locator(".cell_output img").first
        figure.scroll_into_view_if_needed()
        visit.page.screenshot(path=str(SHOTS / ("dark__" + page_path.replace("/", "__")[:-5] + ".png")))
    finally:
        browser.close_page(visit)
    assert theme == "dark"
    assert background == "rgb(255, 255, 255)"


def test_site_ships_its_own_mathjax(site):
    """Offline safety, statically: the vendored MathJax is in the site and no page loads a
    script or stylesheet from another host (links to Binder/Colab/GitHub are fine)."""
    assert (site / "vendor/mathjax/tex-mml-chtml.js").is_file()
    resource = re.compile(r'<script\b[^>]*\bsrc="([^"]+)"|<link\b[^>]*\bhref="([^"]+)"')
    for path in site.rglob("*.html"):
        if path.relative_to(site).parts[0] in NOT_PAGES:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        remote = [a or b for a, b in resource.findall(text) if (a or b).startswith(("http:", "https:", "//"))]
        assert remote == [], f"{path.relative_to(site)} loads from other hosts: {remote}"
        if "math notranslate" in text:
            assert "vendor/mathjax/tex-mml-chtml.js" in text, f"{path.relative_to(site)}: MathJax not the vendored copy"
