"""Figures with words and the site's other static promises, read from the built HTML.

Two sites are checked:

* the book (``_build/html``, ``$DLDNA_SITE_DIR``): every ``<img>`` of every page has a Korean alt
  text that is not a file path (slider frames too: the alt texts the slider switches to), every
  page has a Korean description, the favicon exists, the bibliography has author-year labels,
  the ``.ipynb`` download is the reader notebook with its outputs, no English interface string
  of the theme is left, no slider frame is base64 in the HTML;
* the fixture book of ``tests/site_fixture`` (``tests/fixture_site.py`` builds it, about a
  minute): figures are numbered per page with the caption and alt text their cell gave, link to
  their full-resolution file, slider frames are files, tables have no row numbers; and the alt
  check reports its page whose figure is shown with ``plt.show()`` (and only that page).
"""
from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import fixture_site
from browser_utils import site_pages

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("DLDNA_SITE_DIR", ROOT / "_build" / "html"))
HANGUL = re.compile("[가-힣]")
PATH_LIKE = re.compile(r"(\.(png|jpe?g|gif|svg|webp)\b)|(^|[\s/])_images/|^\.\.?/|^data:", re.I)
# English the themes used to show (issue 27); none may be left on a page (attributes or text).
ENGLISH_UI = ["Skip to main content", "Back to top", "Toggle primary sidebar", "Toggle secondary sidebar",
              "Live Code", "Open issue", "Toggle hidden content", "Link to this heading",
              "Link to this equation", "Site navigation", "On this page", "Color mode", "previous page",
              "next page", "Show code cell", "Hide code cell", "Launch interactive content",
              "전체 화면으로보기", 'aria-label="Main"', 'aria-label="Page"']


def pages(site: Path) -> list[Path]:
    return [site / page for page in site_pages(site)]


class _Images(HTMLParser):
    """Every <img> with its alt, and the alt texts slider figures switch to (their JSON meta)."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[tuple[str, str | None]] = []
        self._meta = False
        self.slider_alts: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append((a.get("src", ""), a.get("alt")))
        self._meta = tag == "script" and a.get("type") == "application/json" and "meta" in (a.get("class") or "")

    def handle_data(self, data):
        if self._meta:
            alts = json.loads(data).get("alts")
            if alts:
                self.slider_alts.extend(alts)

    def handle_endtag(self, tag):
        self._meta = False


def bad_alt(alt: str | None) -> str | None:
    """Why an alt text fails a reader (None when it is fine)."""
    if alt is None or not alt.strip():
        return "no alt text"
    if PATH_LIKE.search(alt.strip()):
        return f"a file path as alt text: {alt[:60]!r}"
    if not HANGUL.search(alt):
        return f"alt text not in Korean: {alt[:60]!r}"
    return None


def images_without_korean_alt(html: str) -> list[str]:
    """Every image of the page (and slider frame) whose alt text is missing, a path or not Korean."""
    parser = _Images()
    parser.feed(html)
    problems = [f"{src[:70]}: {why}" for src, alt in parser.images if (why := bad_alt(alt))]
    problems += [f"slider frame: {why}" for alt in parser.slider_alts if (why := bad_alt(alt))]
    return problems


def test_the_alt_check_reads_alt_texts_as_a_reader_would():
    ok = '<img src="../_images/a.png" alt="학습률 0.1에서 손실이 0.32로 줄어드는 곡선">'
    assert images_without_korean_alt(ok) == []
    for html in ['<img src="x.png">', '<img src="x.png" alt="">', '<img src="x.png" alt="../_images/x.png">',
                 '<img src="x.png" alt="loss curve">',
                 '<script type="application/json" class="meta">{"alts": ["", "그림"]}</script>']:
        assert images_without_korean_alt(html), html


# ------------------------------------------------------------------ the book
@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "search.html").is_file():
        pytest.fail(f"no built book at {SITE}: build it first with `bash scripts/build_book.sh`")
    return SITE


def test_every_image_on_every_page_has_korean_alt_text(site):
    """Fails while a page shows a figure with plt.show(): it must call figures.show(fig, caption=, alt=)."""
    found = {p.relative_to(site).as_posix(): images_without_korean_alt(p.read_text(encoding="utf-8"))
             for p in pages(site)}
    found = {page: problems for page, problems in found.items() if problems}
    assert found == {}, "\n".join(f"{page}: {len(problems)} image(s), e.g. {problems[0]}"
                                  for page, problems in found.items())


def test_every_page_has_a_korean_description_and_the_favicon(site):
    for path in pages(site):
        text = path.read_text(encoding="utf-8")
        description = re.search(r'<meta name="description" content="([^"]*)"', text)
        assert description and HANGUL.search(description.group(1)), f"{path.name}: no Korean description"
        icon = re.search(r'<link rel="icon" href="([^"]+)"', text)
        assert icon and (path.parent / icon.group(1)).resolve().is_file(), f"{path.name}: no favicon"


def test_no_english_interface_strings_are_left(site):
    for path in pages(site):
        text = path.read_text(encoding="utf-8")
        left = [s for s in ENGLISH_UI if s in text]
        assert left == [], f"{path.relative_to(site)}: {left}"


def test_bibliography_labels_are_author_year(site):
    text = (site / "book" / "bibliography.html").read_text(encoding="utf-8")
    labels = re.findall(r'<span class="fn-bracket">\[</span>(.*?)<span class="fn-bracket">\]</span>', text)
    assert len(labels) >= 20
    bad = [label for label in labels if not re.fullmatch(r"[^\[\]<>]+?(?: et al\.)?, (?:\d{4}|n\.d\.)[a-z]?", label)]
    assert bad == [], f"labels that are not 'Author, year': {bad}"
    assert 'role="doc-biblioentry"' not in text   # deprecated in ARIA 1.2: a list of listitems


def test_notebook_download_is_the_reader_notebook_with_outputs(site):
    sources = sorted((site / "_sources").rglob("*.ipynb"))
    assert sources, "no notebook to download"
    for download in sources:
        rel = download.relative_to(site / "_sources")
        committed = ROOT / rel
        assert committed.is_file(), f"{rel}: no reader notebook in the repository"
        assert download.read_bytes() == committed.read_bytes(), f"{rel}: the download is not the reader notebook"
        nb = json.loads(download.read_text(encoding="utf-8"))
        assert any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), f"{rel}: no outputs"


def test_slider_frames_are_files_not_base64(site):
    for path in pages(site):
        text = path.read_text(encoding="utf-8")
        assert "data:image/png;base64," not in text, f"{path.relative_to(site)} embeds a PNG in its HTML"


def test_unused_vendor_files_are_gone(site):
    assert (site / "vendor" / "mathjax" / "tex-mml-chtml.js").is_file()
    assert not (site / "vendor" / "jupyter-widgets").exists() and not (site / "vendor" / "requirejs").exists()
    assert not (site / "test-vendor").exists(), "axe-core is for the tests, not for readers"


# ------------------------------------------------------------------ the fixture book
@pytest.fixture(scope="module")
def fixture(tmp_path_factory) -> Path:
    return fixture_site.built_site(tmp_path_factory.getbasetemp())


def _executed_outputs(fixture: Path, doc: str) -> list[dict]:
    nb = json.loads((fixture.parent / "jupyter_execute" / f"{doc}.ipynb").read_text(encoding="utf-8"))
    return [meta for cell in nb["cells"] for out in cell.get("outputs", [])
            for mime, meta in (out.get("metadata") or {}).items() if isinstance(meta, dict) and "caption" in meta]


def test_alt_check_reports_the_page_whose_figure_lacks_words(fixture):
    found = {p.relative_to(fixture).as_posix(): images_without_korean_alt(p.read_text(encoding="utf-8"))
             for p in pages(fixture)}
    assert {page for page, problems in found.items() if problems} == {fixture_site.NO_ALT_PAGE}


def test_figures_are_numbered_per_page_with_their_caption_and_alt(fixture):
    html = (fixture / "book" / "figures.html").read_text(encoding="utf-8")
    figures = re.findall(r'<figure class="dldna-figure[^"]*">(.*?)</figure>', html, re.S)
    expected = _executed_outputs(fixture, "book/figures")
    assert len(figures) == len(expected) == 5
    for number, (body, meta) in enumerate(zip(figures, expected), start=1):
        caption = re.search(r"<figcaption>(.*?)</figcaption>", body, re.S).group(1)
        assert re.sub(r"<[^>]+>", "", caption).strip() == f"그림 {number}. {meta['caption']}"
        alt = re.search(r"<img[^>]*\balt=['\"]([^'\"]*)['\"]", body).group(1)
        assert alt == meta["alt"].replace("&", "&amp;")
        link = re.search(r'<a class="dldna-enlarge[^"]*"[^>]*href="([^"]+)"', body)
        if link:   # a PNG figure links to its full-resolution file (the slider's link is set by its script)
            assert (fixture / "book" / link.group(1)).resolve().is_file()
    assert html.count('class="dldna-enlarge') == 4


def test_slider_frames_are_served_as_files_with_alt_texts(fixture):
    html = (fixture / "book" / "figures.html").read_text(encoding="utf-8")
    assert "data:image/png" not in html
    frames = json.loads(re.search(r"class='frames'>(.*?)</script>", html, re.S).group(1))
    meta = json.loads(re.search(r"class='meta'>(.*?)</script>", html, re.S).group(1))
    assert len(frames) == len(meta["alts"]) == 6
    for src in frames:
        assert src.startswith("../_images/frame-") and (fixture / "book" / src).resolve().is_file()
    assert meta["alts"][0] == "감쇠 상수 10, 크기 1.0인 지수 곡선: 스텝 100에서 0.000"
    from PIL import Image

    with Image.open((fixture / "book" / frames[0]).resolve()) as image:
        dpi = image.info.get("dpi", (0, 0))[0]
    assert dpi >= 109.9, f"slider frames at {dpi} dpi (at least 110 for phones and 2x screens)"


def test_result_tables_have_no_row_numbers(fixture):
    html = (fixture / "book" / "figures.html").read_text(encoding="utf-8")
    table = re.search(r'<table[^>]*dldna-table.*?</table>', html, re.S).group(0)
    headers = [h.strip() for h in re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", table, re.S)]
    assert headers == ["최적화기", "시험 오차율 (%)", "학습 시간 (초)"]
    assert "<caption>" in table and "<td>0</td>" not in table


def test_hidden_code_is_folded_under_a_korean_label(fixture):
    html = (fixture / "book" / "figures.html").read_text(encoding="utf-8")
    assert '<p class="collapsed admonition-title">코드 보기</p>' in html
    assert "Toggle hidden content" not in html


def test_skip_link_leads_to_the_first_interactive_element(fixture):
    for doc, text in (("book/figures", "첫 대화형 그림으로 건너뛰기"), ("exercises/practice", "첫 확인 도구로 건너뛰기")):
        html = (fixture / f"{doc}.html").read_text(encoding="utf-8")
        link = re.search(r'<a class="dldna-skip-link" href="#([^"]+)">([^<]+)</a>', html)
        assert link and link.group(2) == text
        assert f"id='{link.group(1)}'" in html or f'id="{link.group(1)}"' in html
        assert re.search(r'</h1>\s*<p class="dldna-skip">', html), "the skip link must follow the title"
