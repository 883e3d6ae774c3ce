"""Print the book to one PDF from the site's one-page build (scripts/build_pdf.sh runs this).

Input: ``_build/singlehtml`` (``jupyter-book build --builder singlehtml`` from the same executed
notebooks as the site). The page is opened in headless Chromium (Debian's, offline: every request
off 127.0.0.1 is refused), in print media at the width of an A4 page's text, with
``scripts/pdf/book.css`` and ``scripts/pdf/book.js`` added (title page, contents, chapters,
solutions appendix, print forms of the interactive parts: see book.js). It is printed twice: the
page of every heading is read from the first PDF's named destinations (``pdfinfo -dests``, poppler)
and written into the contents and the solution pointers, then the book is printed again (and once
more if that moved anything). Chromium writes the outline (bookmarks) from the headings and a
tagged PDF; page numbers and running heads come from CSS ``@page`` margin boxes.

Output: the PDF at ``_build/html/<PDF_NAME>`` (the site's download menu links it) and
``_build/pdf/report.json`` (what was transformed, images' printed resolution, anything wider than
the page), which tests/test_pdf.py checks along with the PDF itself.

Usage: .venv/bin/python scripts/build_pdf.py [--book DIR] [--site DIR] [--out PATH] [--report PATH]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest.mock import patch
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent / "pdf"
sys.path.insert(0, str(ROOT / "book" / "_ext"))
sys.path.insert(0, str(ROOT / "tests"))
from browser_utils import CHROMIUM_FLAGS, LOCAL_HOSTS, chromium_path, serve_folder  # noqa: E402  (the tests' offline Chromium)
from pdf_book import PDF_NAME  # noqa: E402

PRINT_DPI = 150            # output images are printed at this resolution (or finer, when they shrink) …
MIN_SCALE = 0.7            # … but at no less than this fraction of the size they were drawn for
A4_TEXT_WIDTH_MM = 210 - 19 - 19   # book.css: @page margin
PX_PER_MM = 96 / 25.4
SOURCE_NAME = "pdf-book.html"      # the one-page build, copied beside its _static/ and _images/
# Chromium hands the printed PDF over through a temporary file; when it cannot write that file the
# print fails only as "Page.pdf: Protocol error (IO.read): Read failed" (clean-clone CI of
# 2026-12-07, stop 33; reproduced here with an unwritable TMPDIR). Chromium and Playwright's driver
# (which makes the browser profile) therefore get TMPDIR set to a new folder beside the report, on
# the checkout's disk, whose free space is checked first; it is removed after printing.
MIN_FREE_MB = 200          # the book's PDF is about 17 MB; Chromium's own files a few MB
PRINT_ATTEMPTS = 2         # a failed print is tried once more before the build stops


def free_mb(folder: Path) -> int:
    """Free megabytes on the file system that holds ``folder``."""
    return shutil.disk_usage(folder).free // 1_000_000


def browser_tmp(parent: Path) -> Path:
    """A new folder in ``parent`` for the browser's temporary files, after checking that its disk
    has room (a name of its own: nothing already in ``parent`` is touched)."""
    parent.mkdir(parents=True, exist_ok=True)
    free = free_mb(parent)
    if free < MIN_FREE_MB:
        raise OSError(f"[pdf] only {free} MB free on the disk of {parent}: Chromium writes the PDF "
                      f"there before it is read (at least {MIN_FREE_MB} MB needed). Free some space and "
                      f"run scripts/build_pdf.sh again.")
    return Path(tempfile.mkdtemp(prefix="chromium-tmp-", dir=parent))


def print_pdf(page, options: dict, tmp: Path, attempts: int = PRINT_ATTEMPTS) -> None:
    """``page.pdf(**options)``, tried ``attempts`` times; the last failure names the free space of
    Chromium's temporary folder and of the PDF's folder (a full disk fails only as "Read failed")."""
    from playwright.sync_api import Error as PlaywrightError

    for attempt in range(1, attempts + 1):
        try:
            page.pdf(**options)
            return
        except PlaywrightError as err:
            space = ", ".join(f"{folder}: {free_mb(folder)} MB free" for folder in (tmp, Path(options["path"]).parent))
            print(f"[pdf] print attempt {attempt} of {attempts} failed: {err} ({space})", file=sys.stderr, flush=True)
            if attempt == attempts:
                raise RuntimeError(f"Chromium could not print the book ({space}): {err}") from err


def book_config(book: Path = ROOT) -> dict:
    """Title, parts and colophon from the book's _config.yml and _toc.yml (the site's own words)."""
    config = yaml.safe_load((book / "_config.yml").read_text(encoding="utf-8"))
    toc = yaml.safe_load((book / "_toc.yml").read_text(encoding="utf-8"))
    root = toc["root"]
    parts = [{"caption": "들어가며", "docs": [root]}]
    for part in toc.get("parts", []):
        parts.append({"caption": part.get("caption", ""), "docs": [c["file"] for c in part.get("chapters", [])]})
    footer = re.sub(r"<[^>]+>", "", (config.get("html") or {}).get("extra_footer", "")).strip()
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = " (커밋하지 않은 변경 포함)" if _git("status", "--porcelain", "--untracked-files=no") else ""
    colophon = [line for line in [
        footer,
        f"이 PDF는 웹사이트와 같은 실행 결과(같은 노트북을 한 번 실행한 출력)로 만든 인쇄본입니다. "
        f"빌드: {dt.date.today().isoformat()}, 커밋 {commit}{dirty}.",
        f"웹사이트·저장소: {(config.get('repository') or {}).get('url', '')}",
        "대화형 그림과 답 확인 도구는 웹사이트나 노트북(Colab·Binder)에서 움직입니다. "
        "이 인쇄본에는 그림의 첫 장면과 문제의 답 형식을 실었습니다.",
    ] if line]
    exercise_docs = [d for p in parts for d in p["docs"] if d.startswith("exercises/")]
    return {"title": config.get("title", ""), "kicker": "딥러닝 교재 한국어판",
            "subtitle": "파라미터 초기화, 최적화 알고리즘, 손실 표면, 가우시안 근사, 학습 동역학 — "
                        "실행되는 노트북으로 배우는 장",
            "colophon": colophon, "rootDoc": root, "parts": parts, "exerciseDocs": exercise_docs,
            "solutionsTitle": "연습 문제 해답", "appendixPart": parts[-1]["caption"] if parts else "부록",
            "solutionsIntro": "연습 문제의 풀이를 문제 순서대로 모았습니다. 문제를 먼저 풀어 본 뒤에 읽으세요. "
                              "각 해답의 첫 줄은 문제로 돌아가는 링크입니다."}


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def prepare_source(site: Path) -> Path:
    """The one-page build at the site's root (its asset paths are relative to it), links local."""
    page = site / "book" / "intro.html"
    if not page.is_file():
        candidates = sorted(site.glob("**/*.html"), key=lambda p: p.stat().st_size, reverse=True)
        if not candidates:
            raise FileNotFoundError(f"{site} holds no HTML: run scripts/build_pdf.sh (it builds the one-page book)")
        page = candidates[0]
    html = page.read_text(encoding="utf-8")
    own = page.relative_to(site).as_posix()
    html = html.replace(f'href="{own}#', 'href="#')   # Sphinx spells links within the page with its name
    assets = site / "_pdf"
    assets.mkdir(exist_ok=True)
    for name in ("book.css", "book.js"):
        shutil.copyfile(HERE / name, assets / name)
    html = html.replace("</head>", '<link rel="stylesheet" href="_pdf/book.css">\n'
                        '<script src="_pdf/book.js"></script>\n</head>', 1)
    out = site / SOURCE_NAME
    out.write_text(html, encoding="utf-8")
    return out


def named_destinations(pdf: Path) -> dict[str, int]:
    """Anchor id → page number, from the PDF's named destinations (``pdfinfo -dests``)."""
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        raise FileNotFoundError("pdfinfo not found: install poppler-utils (scripts/setup_env.sh does as root)")
    out = subprocess.run([pdfinfo, "-dests", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = {}
    for line in out.splitlines():
        match = re.match(r'^\s*(\d+)\s+\[.*\]\s+"(.*)"\s*$', line)
        if match:
            pages.setdefault(match.group(2), int(match.group(1)))
    return pages


def print_book(site: Path, out: Path, report_path: Path, book: Path = ROOT) -> dict:
    from playwright.sync_api import sync_playwright

    source = prepare_source(site)
    config = book_config(book)
    width = round(A4_TEXT_WIDTH_MM * PX_PER_MM)
    timings = {}
    tmp = browser_tmp(report_path.parent)
    try:
        # TMPDIR is read by the driver that sync_playwright() starts, and by Chromium; restored after
        with patch.dict(os.environ, TMPDIR=str(tmp)), serve_folder(site) as base, sync_playwright() as pw:
            report = _print(pw, base, source, config, out, width, tmp, timings)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return report


def _print(pw, base: str, source: Path, config: dict, out: Path, width: int, tmp: Path, timings: dict) -> dict:
    """Open the one-page book in Chromium, prepare it (book.js) and print it until its page numbers settle."""
    browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True)  # TMPDIR: print_book
    try:
        context = browser.new_context(viewport={"width": width, "height": 1000}, locale="ko-KR",
                                      service_workers="block")
        blocked: list[str] = []

        def only_local(route) -> None:
            url = route.request.url
            if url.startswith(("data:", "blob:", "about:")) or urlsplit(url).hostname in LOCAL_HOSTS:
                route.continue_()
            else:
                blocked.append(url)
                route.abort()

        context.route("**/*", only_local)
        context.set_default_timeout(180_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.emulate_media(media="print", color_scheme="light")
        start = time.perf_counter()
        page.goto(f"{base}/{source.name}", wait_until="load")
        page.evaluate("""async () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
            if (document.fonts) await document.fonts.ready;
        }""")
        timings["load_and_typeset_s"] = round(time.perf_counter() - start, 1)
        report = page.evaluate("config => window.dldnaPrepareBook(config)", config)
        page.evaluate("""async () => {
            const imgs = Array.from(document.images);
            await Promise.all(imgs.map(img => img.complete ? null : new Promise(r => { img.onload = img.onerror = r; })));
            if (document.fonts) await document.fonts.ready;
        }""")
        fit = page.evaluate(f"() => window.dldnaFitBook({PRINT_DPI}, {MIN_SCALE})")
        report.update(images=fit["images"], shrunk=fit["shrunk"], overflow=fit["overflow"])
        out.parent.mkdir(parents=True, exist_ok=True)
        pdf_options = dict(path=str(out), prefer_css_page_size=True, print_background=True,
                           outline=True, tagged=True)
        pages: dict[str, int] = {}
        for attempt in range(1, 4):
            start = time.perf_counter()
            print_pdf(page, pdf_options, tmp)
            timings[f"print_{attempt}_s"] = round(time.perf_counter() - start, 1)
            found = named_destinations(out)
            if found and all(found.get(k) == v for k, v in pages.items()) and pages:
                break
            pages = found
            missing = page.evaluate("pages => window.dldnaSetPages(pages)", pages)
            report["unresolved_page_refs"] = missing
        report.update(solutions_title=config["solutionsTitle"], blocked_requests=blocked, js_errors=errors, timings=timings, pdf=str(out),
                      print_width_px=width, print_dpi=PRINT_DPI, prints=attempt)
    finally:
        browser.close()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, default=ROOT,
                        help="the book's folder (its _config.yml, _toc.yml and _build/); default: this repository")
    parser.add_argument("--site", type=Path, help="default: BOOK/_build/singlehtml")
    parser.add_argument("--out", type=Path, help=f"default: BOOK/_build/html/{PDF_NAME}")
    parser.add_argument("--report", type=Path, help="default: BOOK/_build/pdf/report.json")
    args = parser.parse_args(argv)
    build = args.book / "_build"
    args.site = args.site or build / "singlehtml"
    args.out = args.out or build / "html" / PDF_NAME
    args.report = args.report or build / "pdf" / "report.json"
    start = time.perf_counter()
    report = print_book(args.site, args.out, args.report, args.book)
    size_mb = args.out.stat().st_size / 1e6
    print(f"[pdf] {args.out} ({size_mb:.1f} MB) in {time.perf_counter() - start:.0f} s; "
          f"{len(report['chapters'])} chapters, {report['solutions']} solutions, {report['checkers']} checkers, "
          f"{report['sliders']} slider figures, {len(report['images'])} images; timings {report['timings']}")
    for item in report["overflow"]:
        print(f"[pdf] wider than the page: {item}", file=sys.stderr)
    for item in report["shrunk"]:
        print(f"[pdf] set smaller to fit: {item}")
    if report["js_errors"] or report["blocked_requests"]:
        print(f"[pdf] JavaScript errors {report['js_errors']}, blocked requests {report['blocked_requests']}",
              file=sys.stderr)
    if report["missing"]:
        print(f"[pdf] pages of _toc.yml not found in the one-page build: {report['missing']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
