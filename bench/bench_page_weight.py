"""Page weight of the built site: what a first-time reader's browser downloads for each page.

Each page is opened in a fresh headless Chromium (empty cache, offline: only the site itself),
scrolled to the bottom so that lazily loaded figures load too, and the bodies of every response
(the page, its CSS, JavaScript, fonts, images) are added up as the server sent them. The local
server does not compress, so this is an upper bound: a host that gzips text (GitHub Pages) sends
less. Slider frames other than the first load only when a reader moves a slider; they are counted
apart ("frames on demand"). Target: every page ≤ 3 MB (issue 27).

Usage: .venv/bin/python bench/bench_page_weight.py [--site _build/html] [--top 3]
The "gzip" column is what a host that compresses text sends (level 6, text files only).
The last line is the ratio heaviest page / 3 MB, uncompressed.
"""
from __future__ import annotations

import argparse
import gzip
import sys
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser_utils import Browser, serve_folder  # noqa: E402

BUDGET = 3 * 1024 * 1024
NOT_PAGES = {"_static", "_sources", "_images", "vendor", "_sphinx_design_static"}


def pages(site: Path) -> list[str]:
    out = []
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site)
        if rel.parts[0] in NOT_PAGES or 'http-equiv="refresh"' in path.read_text(encoding="utf-8")[:2000].lower():
            continue
        out.append(rel.as_posix())
    return out


def kind(url: str) -> str:
    path = urlsplit(url).path
    if "/vendor/mathjax/" in path:
        return "MathJax"
    if path.endswith((".png", ".jpg", ".svg", ".gif", ".webp")):
        return "images"
    if path.endswith(".js"):
        return "JavaScript"
    if path.endswith(".css"):
        return "CSS"
    if path.endswith((".woff", ".woff2", ".ttf", ".otf")):
        return "fonts"
    return "HTML" if path.endswith(".html") or path.endswith("/") else "other"


TEXT = (".html", ".css", ".js", ".svg", ".json", ".txt", "/")


def gzip_size(site: Path, url: str, size: int) -> int:
    """Bytes a compressing host sends for ``url`` (the file gzipped when it is text)."""
    path = urlsplit(url).path
    if not path.endswith(TEXT):
        return size
    file = site / path.lstrip("/")
    if file.is_dir():
        file = file / "index.html"
    return len(gzip.compress(file.read_bytes(), 6)) if file.is_file() else size


def weigh(base: str, page: str) -> tuple[dict[str, int], int, int]:
    """(bytes by kind, gzip total, bytes of slider frames not shown yet) for one page in a fresh browser."""
    sizes: dict[str, int] = defaultdict(int)
    with Browser() as browser:
        visit = browser.open(f"{base}/{page}")
        p = visit.page
        print(f"  {page}", end="\r", file=sys.stderr)
        p.evaluate("""async () => {
            for (let y = 0; y < document.body.scrollHeight; y += window.innerHeight) {
                window.scrollTo(0, y);
                await new Promise((ok) => setTimeout(ok, 60));
            }
            await Promise.all([...document.images].map((i) => i.complete ? null :
                new Promise((ok) => { i.onload = i.onerror = ok; setTimeout(ok, 10000); })));
        }""")
        p.wait_for_load_state("networkidle")
        entries = p.evaluate("""() => [...performance.getEntriesByType("navigation"),
                                       ...performance.getEntriesByType("resource")]
                                      .map((e) => [e.name, e.encodedBodySize])""")
        frames = p.evaluate("""() => [...document.querySelectorAll(".dldna-figure-slider script.frames")]
                                     .flatMap((s) => JSON.parse(s.textContent).slice(1))""")
        browser.close_page(visit)
    site = Path(ARGS.site)
    zipped = 0
    for url, size in entries:
        sizes[kind(url)] += size
        zipped += gzip_size(site, url, size)
    files = [(site / Path(page).parent / src).resolve() for src in frames if src.endswith(".png")]
    on_demand = sum(f.stat().st_size for f in files if f.is_file())
    return dict(sizes), zipped, on_demand


def main() -> int:
    site = Path(ARGS.site)
    if not (site / "search.html").is_file():
        sys.exit(f"no built site at {site}: build the book first")
    kinds = ["HTML", "CSS", "JavaScript", "MathJax", "fonts", "images", "other"]
    print(f"{'page':34s} {'total':>9s} {'gzip':>7s}  " + " ".join(f"{k:>10s}" for k in kinds)
          + f" {'frames on demand':>17s}")
    heaviest = 0
    with serve_folder(site) as base:
        for page in pages(site):
            sizes, zipped, on_demand = weigh(base, page)
            total = sum(sizes.values())
            heaviest = max(heaviest, total)
            mark = "  OVER 3 MB" if total > BUDGET else ""
            print(f"{page:34s} {total / 1e6:8.2f}M {zipped / 1e6:6.2f}M  "
                  + " ".join(f"{sizes.get(k, 0) / 1e6:9.2f}M" for k in kinds)
                  + f" {on_demand / 1e6:16.2f}M{mark}")
    print(f"heaviest page / 3 MB: {heaviest / BUDGET:.2f}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", default=str(ROOT / "_build" / "html"))
    ARGS = parser.parse_args()
    sys.exit(main())
