"""The printed book (``bash scripts/build_pdf.sh``), checked as a reader holds it.

Runs after the PDF build (scripts/run_tests.sh builds the book, then the PDF, then runs pytest)
and never builds it: without the PDF every test that needs it fails and says how to build it.
The checks read the PDF itself with poppler (pdfinfo, pdftotext, pdffonts, pdfimages, pdftohtml
for the outline) and the build's report (``_build/pdf/report.json``, measured in the browser at
the page's width in print media):

- a sane number of A4 pages; every chapter title of _toc.yml in the text, in the outline
  (bookmarks) and in the contents with the page it starts on;
- every font embedded; every character of the text drawn from a font that has it (no tofu);
- Korean lines broken between words, never inside one;
- nothing wider than the text block: no word past the margins, no element past the content box
  or cut off by a scrolling box in print layout;
- output images at print resolution (pdfimages' ppi);
- interactive parts on paper: checkers as questions with answer lines, sliders as their first
  frame with the values, no widget views; solutions gathered in an appendix with pointers;
- every internal link of the one-page source reaches exactly one target;
- the site links the PDF from every page, and CI and the deploy workflow build it.
The pure helpers (id renaming of the one-page build) are tested without any build.
"""
from __future__ import annotations

import functools
import html as html_lib
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
sys.path.insert(0, str(ROOT / "scripts"))
from pdf_book import PDF_NAME, relink, unique_ids  # noqa: E402

SITE = Path(os.environ.get("DLDNA_SITE_DIR", ROOT / "_build" / "html"))
PDF = SITE / PDF_NAME
REPORT = ROOT / "_build" / "pdf" / "report.json"
SOURCE = ROOT / "_build" / "singlehtml" / "pdf-book.html"
MIN_PAGES, MAX_PAGES = 60, 360
A4_PT = (595.0, 842.0)
MARGIN_LR_PT = 19 * 72 / 25.4        # scripts/pdf/book.css: @page margin (left and right)
EDGE_TOLERANCE_PT = 3.0              # glyph side bearings
RUNNING_HEAD_PT = 55.0               # words above this (y from the top) are the running head
PRINT_DPI = 150                      # scripts/build_pdf.py
MATHJAX_FONTS = ROOT / "_assets" / "vendor" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
BUILD = "build it with `bash scripts/build_pdf.sh` (scripts/run_tests.sh does so before pytest)"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: install poppler-utils (scripts/setup_env.sh does so as root)", pytrace=False)
    return path


def _run(*args: str) -> str:
    return subprocess.run([_tool(args[0]), *args[1:]], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def pdf() -> Path:
    if not PDF.is_file():
        pytest.fail(f"no printed book at {PDF}: {BUILD}", pytrace=False)
    return PDF


@pytest.fixture(scope="module")
def report(pdf) -> dict:
    if not REPORT.is_file():
        pytest.fail(f"no build report at {REPORT}: {BUILD}", pytrace=False)
    return json.loads(REPORT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pages_text(pdf) -> list[str]:
    """The text of every page (pdftotext, reading order)."""
    return _run("pdftotext", "-enc", "UTF-8", str(pdf), "-").split("\f")[:-1]


@pytest.fixture(scope="module")
def words(pdf) -> list[list[tuple[float, float, float, float, str]]]:
    """Every word of every page with its box (xMin, yMin, xMax, yMax, text), in reading order."""
    out = _run("pdftotext", "-bbox", "-enc", "UTF-8", str(pdf), "-")
    pages = []
    for page in out.split("<page ")[1:]:
        pages.append([(float(a), float(b), float(c), float(d), html_lib.unescape(t)) for a, b, c, d, t in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', page)])
    return pages


@pytest.fixture(scope="module")
def outline(pdf) -> list[tuple[int, str, int]]:
    """The PDF's bookmarks as (depth, title, page)."""
    xml = _run("pdftohtml", "-xml", "-stdout", "-i", "-q", "-f", "1", "-l", "1", str(pdf))
    items, depth = [], 0
    for token in re.finditer(r'<outline>|</outline>|<item page="(\d+)">(.*?)</item>', xml, re.S):
        if token.group(0) == "<outline>":
            depth += 1
        elif token.group(0) == "</outline>":
            depth -= 1
        else:
            items.append((depth, html_lib.unescape(token.group(2)).strip(), int(token.group(1))))
    return items


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def toc_docs() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]


def chapter_titles() -> list[str]:
    """The first level-1 heading of every page in _toc.yml, as the site shows it."""
    titles = []
    for doc in toc_docs():
        text = (ROOT / f"{doc}.md").read_text(encoding="utf-8")
        heading = re.search(r"^# (.+)$", text, re.M)
        assert heading, f"{doc}.md has no level-1 heading"
        titles.append(_norm(re.sub(r"[`*]", "", heading.group(1))))
    return titles


# ------------------------------------------------------------------ pages, titles, outline
def test_page_count_is_sane_and_pages_are_a4(pdf):
    info = _run("pdfinfo", str(pdf))
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert MIN_PAGES <= pages <= MAX_PAGES, f"{pages} pages, expected {MIN_PAGES}–{MAX_PAGES}"
    width, height = map(float, re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M).groups())
    assert abs(width - A4_PT[0]) < 2 and abs(height - A4_PT[1]) < 2, f"page size {width} x {height} pt is not A4"
    assert re.search(r"^Tagged:\s+yes", info, re.M), "the PDF is not tagged (screen readers, reflow)"


def test_every_chapter_title_is_in_the_text_and_outline_and_contents(pages_text, outline, report):
    text = _norm(" ".join(pages_text))
    titles = chapter_titles() + [report.get("solutions_title", "연습 문제 해답")] if report["solutions"] else chapter_titles()
    missing = [t for t in titles if t not in text]
    assert not missing, f"chapter titles missing from the PDF's text: {missing}"
    top = {_norm(title): page for depth, title, page in outline if depth == 1}
    assert not [t for t in titles if t not in top], f"not in the PDF outline (bookmarks): {[t for t in titles if t not in top]}"
    # the contents list each chapter with the page where its title stands
    starts = sorted(page for depth, title, page in outline if depth == 1)
    contents = [page for depth, title, page in outline if depth == 1 and title == "차례"]
    assert contents, "no contents (차례) in the outline"
    last = min([p for p in starts if p > contents[0]], default=contents[0] + 1) - 1
    layout = _run("pdftotext", "-layout", "-enc", "UTF-8", "-f", str(contents[0]), "-l", str(last), str(PDF), "-")
    listed = {}
    for line in layout.splitlines():
        match = re.match(r"^\s*(\S.*?\S)\s{2,}(\d+)\s*$", line)
        if match:
            listed.setdefault(_norm(match.group(1)), int(match.group(2)))
    for title in titles:
        assert title in listed, f"{title!r} is not listed with a page number in the contents"
        page = listed[title]
        assert page == top[title], f"contents say {title!r} starts on page {page}, the outline says {top[title]}"
        assert title in _norm(pages_text[page - 1]), f"page {page} does not show {title!r}"


def test_pages_are_numbered_and_links_have_targets(pdf, words):
    """Every page after the title page prints its number at the foot (its lowest word, by position:
    -layout's reading order can put a right-aligned equation number after it); the PDF's internal
    links (contents, equation references, glossary terms) have targets."""
    unnumbered = [n for n, page in enumerate(words, 1)
                  if n > 1 and (not page or max(page, key=lambda w: w[1])[4] != str(n))]
    assert not unnumbered, f"pages without their number at the foot: {unnumbered[:20]}"
    dests = re.findall(r'"([^"]+)"\s*$', _run("pdfinfo", "-dests", str(pdf)), re.M)
    kinds = {kind: [d for d in dests if d.startswith(kind)] for kind in ("pdf-h-", "equation-", "term-")}
    assert all(kinds.values()), f"no link targets of some kind in the PDF: { {k: len(v) for k, v in kinds.items()} }"


# ------------------------------------------------------------------ fonts and glyphs
def _pdffonts(pdf: Path) -> list[dict]:
    rows = []
    for line in _run("pdffonts", str(pdf)).splitlines()[2:]:
        match = re.match(r"^(.*?)\s+(Type 1C?|Type 3|TrueType|CID TrueType|CID Type 0C?|Type 0C?|CID Type 0)\s+(\S+)\s+"
                         r"(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+$", line.strip())
        assert match, f"unreadable pdffonts line: {line!r}"
        rows.append({"name": match.group(1), "type": match.group(2), "emb": match.group(4) == "yes"})
    return rows


def test_every_font_is_embedded_and_the_korean_fonts_are_used(pdf):
    fonts = _pdffonts(pdf)
    assert fonts, "pdffonts lists no fonts"
    not_embedded = [f["name"] for f in fonts if not f["emb"]]
    assert not not_embedded, f"fonts not embedded: {not_embedded}"
    names = {f["name"].split("+")[-1] for f in fonts}
    for family in ("NanumMyeongjo", "NanumGothic", "NanumGothicCoding"):
        assert family in names, f"{family} is not used (body text, headings, code): {sorted(names)}"


@functools.lru_cache(maxsize=None)
def _cmap(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=0, lazy=True)
    return frozenset(font.getBestCmap() or {})


def _font_files_by_postscript_name() -> dict[str, str]:
    out = subprocess.run(["fc-list", "-f", "%{postscriptname}\t%{file}\n"], capture_output=True, text=True).stdout
    return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)


def test_every_character_is_drawn_from_a_font_that_has_it(pdf, pages_text):
    """Chromium draws a character no embedded font has as a box (.notdef): every character of the
    text must be in the character map of one of the PDF's fonts (system fonts by their PostScript
    name; Type 3 fonts are MathJax's web fonts)."""
    fonts = _pdffonts(pdf)
    files = _font_files_by_postscript_name()
    covered: set[int] = set()
    unknown = []
    for font in fonts:
        name = font["name"].split("+")[-1]
        if font["type"] == "Type 3":
            for woff in sorted(MATHJAX_FONTS.glob("*.woff")):
                covered |= _cmap(str(woff))
        elif name in files:
            covered |= _cmap(files[name])
        else:
            unknown.append(name)
    assert not unknown, f"embedded fonts not found on this system to check their glyphs: {unknown}"
    missing = Counter()
    for number, text in enumerate(pages_text, 1):
        for ch in text:
            if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf"):
                continue
            if ch == "\ufffd" or ord(ch) not in covered:
                missing[(ch, f"U+{ord(ch):04X}", number)] += 1
    assert not missing, f"characters no embedded font has (drawn as boxes): {sorted(missing)[:20]}"


# ------------------------------------------------------------------ Korean line breaking
HANGUL = re.compile(r"[\uac00-\ud7a3]")


BLOCK_TAGS = re.compile(r"</?(p|div|li|ul|ol|dl|dt|dd|td|th|tr|table|h[1-6]|br|pre|section|figure|figcaption|"
                        r"caption|label|legend|fieldset|blockquote|summary|details|hr)\b[^>]*>", re.I)


def _source_text() -> str:
    """The text of the one-page source as words: blocks apart, inline tags dropped, math as ∎."""
    if not SOURCE.is_file():
        pytest.fail(f"no one-page source at {SOURCE}: {BUILD}", pytrace=False)
    page = SOURCE.read_text(encoding="utf-8")
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = BLOCK_TAGS.sub(" ", page)
    text = html_lib.unescape(re.sub(r"<[^>]+>", "", page))
    text = re.sub(r"\\\(.*?\\\)|\\\[.*?\\\]|\$\$.*?\$\$", " ∎ ", text, flags=re.S)
    return _norm(text)


def test_korean_lines_break_between_words_not_inside_them(words):
    """Where a line ends and the next begins with Hangul syllables, the site's text has a space
    there (word-break: keep-all breaks between eojeol only). The two words before the break give
    the place in the text; a place the text does not have (math, figures) is not judged."""
    source = _source_text()
    inside = []
    for number, page in enumerate(words, 1):
        line: list[str] = []
        # the running head (chapter and section titles in the top margin) is not part of the text
        page = [w for w in page if w[1] > RUNNING_HEAD_PT]
        for (x0, y0, x1, y1, a), (u0, v0, u1, v1, b) in zip(page, page[1:]):
            line.append(a)
            if not (v0 > y0 + 2 and u0 < x0):    # the next word is on the same line
                continue
            context, line = " ".join(line[-2:]), []
            if not (HANGUL.match(a[-1]) and HANGUL.match(b[0])):
                continue
            if context + b in source and f"{context} {b}" not in source:
                inside.append((number, context, b))
    assert not inside, f"Korean words broken across lines (page, end of line, start of next): {inside[:15]}"


# ------------------------------------------------------------------ nothing wider than the page
def test_no_word_runs_past_the_margins(words):
    width = A4_PT[0]
    left, right = MARGIN_LR_PT - EDGE_TOLERANCE_PT, width - MARGIN_LR_PT + EDGE_TOLERANCE_PT
    outside = [(n, w[4], round(w[0]), round(w[2])) for n, page in enumerate(words, 1) for w in page
               if w[0] < left or w[2] > right]
    assert not outside, f"words past the text block (page, word, x from, x to in pt): {outside[:15]}"


def test_nothing_is_wider_than_the_page_in_print_layout(report):
    """Measured by scripts/pdf/book.js in print media at the text width: no element's right edge
    past the content box, no scrolling box that would cut content off on paper."""
    assert report["print_width_px"] > 600
    assert report["overflow"] == [], f"wider than the page: {report['overflow'][:10]}"


# ------------------------------------------------------------------ figures
def test_output_images_print_at_print_resolution(pdf, report):
    rows = [line.split() for line in _run("pdfimages", "-list", str(pdf)).splitlines()[2:]]
    images = [r for r in rows if r[2] in ("image", "smask") and int(r[3]) >= 64]
    assert images, "the PDF has no images: figures missing"
    coarse = [(r[0], r[3], r[12]) for r in images if min(int(r[12]), int(r[13])) < PRINT_DPI - 1]
    assert not coarse, f"images printed under {PRINT_DPI} ppi (page, px wide, ppi): {coarse}"
    assert len(report["images"]) >= len([r for r in images if r[2] == "image"]) - 2
    assert all(i["printed_dpi"] >= PRINT_DPI - 1 for i in report["images"]), report["images"]


def test_figures_keep_their_captions_and_numbers(pages_text):
    """Figures the site numbers (figures.show → "그림 N.") carry the same caption on paper."""
    page = SOURCE.read_text(encoding="utf-8") if SOURCE.is_file() else ""
    captions = [_norm(html_lib.unescape(re.sub(r"<[^>]+>", "", c)))
                for c in re.findall(r"<figcaption>(.*?)</figcaption>", page, re.S)]
    numbered = [c for c in captions if re.match(r"그림 \d+\.", c)]
    if not numbered:
        pytest.skip("the site numbers no figures yet (pages without figures.show captions)")
    text = _norm(" ".join(pages_text))
    missing = [c[:60] for c in numbered if _norm(c)[:40] not in text]
    assert not missing, f"figure captions missing from the PDF: {missing}"


# ------------------------------------------------------------------ interactive parts and solutions
def test_interactive_parts_print_as_paper(report, pages_text):
    source = SOURCE.read_text(encoding="utf-8") if SOURCE.is_file() else ""
    text = _norm(" ".join(pages_text))
    assert report["widgets"] == 0, "an ipywidgets view reached the print (it shows nothing on paper)"
    checkers = len(re.findall(r"class='dldna-checker'", source))
    assert report["checkers"] == checkers
    assert text.count("답을 적는 칸입니다") == checkers, "not every checker printed its answer format"
    sliders = len(re.findall(r"class='dldna-figure-slider'", source))
    assert report["sliders"] == sliders
    assert text.count("웹사이트와 노트북에서는 슬라이더로") == sliders, "a slider figure printed without its values"
    assert not re.search(r"첫 장면(: \.|\(\))", text), "a slider figure's values are empty"
    folded = len(re.findall(r'<details class="[^"]*\bhide above-input\b', source))
    assert report["foldedInputs"] == folded, "folded code (hide-input) must stay off paper, as on the site"


def test_solutions_are_gathered_in_an_appendix_with_pointers(report, pages_text, outline):
    source = SOURCE.read_text(encoding="utf-8") if SOURCE.is_file() else ""
    solutions = len(re.findall(r'class="solution[ "]', source))
    assert report["solutions"] == solutions
    if not solutions:
        pytest.skip("no solutions in the book")
    appendix = [page for depth, title, page in outline if depth == 1 and title == "연습 문제 해답"]
    assert appendix, "no solutions appendix in the outline"
    exercise_pages = [page for depth, title, page in outline if depth == 1 and title.startswith("연습 문제 ")
                      and title != "연습 문제 해답"]
    assert exercise_pages and appendix[0] > max(exercise_pages), "the solutions appendix must follow the exercises"
    text = _norm(" ".join(pages_text))
    pointers = re.findall(r"해답은 부록 ‘연습 문제 해답’ (\d+)쪽에 있습니다", text)
    assert len(pointers) == solutions, f"{len(pointers)} pointers for {solutions} solutions"
    for page in map(int, pointers):
        assert page >= appendix[0] and "의 해답" in pages_text[page - 1], f"pointer to page {page} finds no solution"


def test_every_internal_link_of_the_source_has_one_target():
    """Sphinx's one-page build repeats ids page by page (id1 …): book/_ext/pdf_book.py renames
    them, so a citation, equation or term link lands on its own target."""
    if not SOURCE.is_file():
        pytest.fail(f"no one-page source at {SOURCE}: {BUILD}", pytrace=False)
    page = SOURCE.read_text(encoding="utf-8")
    ids = Counter(re.findall(r"""\sid=["']([^"']+)["']""", page))
    targets = set(re.findall(r'href="#([^"]+)"', page))
    assert targets, "no internal links"
    assert not [t for t in targets if ids[t] != 1], \
        f"links whose target is missing or not unique: {[(t, ids[t]) for t in targets if ids[t] != 1][:10]}"
    assert any(t.startswith("equation-") for t in targets), "no equation reference"


# ------------------------------------------------------------------ the site links it; CI builds it
def test_the_site_links_the_pdf_from_every_page(pdf):
    pages = [p for p in SITE.rglob("*.html") if p.relative_to(SITE).parts[0] not in
             {"_static", "_sources", "_images", "vendor", "_sphinx_design_static"}
             and p.name not in {"search.html", "genindex.html"}]
    pages = [p for p in pages if not re.search(r'http-equiv="refresh"', p.read_text(encoding="utf-8")[:2000], re.I)]
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        links = re.findall(r'href="([^"]*' + re.escape(PDF_NAME) + r')"', text)
        assert links, f"{page.relative_to(SITE)} does not link the PDF"
        assert (page.parent / links[0]).resolve() == pdf.resolve(), f"{page}: {links[0]} is not the PDF"
        assert "window.print()" not in text, f"{page.relative_to(SITE)} still offers the print dialog as .pdf"


def test_ci_and_the_deploy_workflow_build_the_pdf():
    run_tests = (ROOT / "scripts" / "run_tests.sh").read_text(encoding="utf-8")
    assert "scripts/build_pdf.sh" in run_tests and run_tests.index("build_book.sh") < run_tests.index("build_pdf.sh")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["build"]["steps"]
    runs = [s.get("run", "") for s in steps]
    built = [i for i, r in enumerate(runs) if "scripts/build_pdf.sh" in r]
    upload = [i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert built and upload and built[0] < upload[0], "the deploy workflow must build the PDF before uploading the site"


# ------------------------------------------------------------------ the id renaming, without a build
def test_ids_repeated_across_pages_are_made_unique_and_links_follow():
    from docutils import nodes
    from docutils.utils import new_document
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from sphinx import addnodes

    doc = new_document("root", get_default_settings(Parser))
    root_section = nodes.section(ids=["id1"])
    root_section += nodes.reference("", "to a", refuri="#document-a#id1")
    doc += root_section
    for name in ("a", "b"):
        sof = addnodes.start_of_file(docname=name)
        section = nodes.section(ids=["id1", f"only-{name}"])
        section += nodes.reference("", "local", refid="id1")
        sof += section
        doc += sof
    root_section += nodes.reference("", "to the root page", refuri="#document-root")
    renamed = unique_ids(doc, "root")
    relink(doc, renamed, "root", root_section["ids"][0])
    assert renamed["a"] == {"id1": "a--id1"} and renamed["b"] == {"id1": "b--id1"}
    assert root_section["ids"] == ["root--id1"]
    sections = [n for n in doc.findall(nodes.section)]
    assert [s["ids"] for s in sections[1:]] == [["a--id1", "only-a"], ["b--id1", "only-b"]]
    refs = list(doc.findall(nodes.reference))
    assert refs[0]["refuri"] == "#document-a#a--id1"     # Sphinx then drops "#document-a"
    assert refs[1]["refuri"] == "#root--id1"             # the root page has no #document- mark
    assert [r.get("refid") for r in refs[2:]] == ["a--id1", "b--id1"]
