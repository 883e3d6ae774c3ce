"""Remove duplicated inline scripts from the HTML pages, and scripts no page needs.

With jupyter-book 1.0.4 (Sphinx 7.4, sphinx-thebe 0.3) every page carries the inline
script ``const THEBE_JS_URL = ...`` twice; the second copy throws "Identifier
'THEBE_JS_URL' has already been declared" in the reader's console (the browser tests
fail on any JavaScript error). Keeping the first of identical script entries fixes it
without touching the theme or sphinx-thebe.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from sphinx.application import Sphinx


def _script_key(js: Any) -> tuple[str, str]:
    # The two copies differ only in how "no file" is spelled (None and ""), which is
    # why Sphinx's own de-duplication keeps both.
    attributes = getattr(js, "attributes", {}) or {}
    return str(getattr(js, "filename", js) or ""), str(attributes.get("body", "") or "")


def drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str,
                           context: dict[str, Any], doctree: Any) -> None:
    """Keep the first of script entries with the same file name and inline body."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    unique = []
    for js in scripts:
        key = _script_key(js)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


# pydata-sphinx-theme loads Font Awesome twice: as web fonts with a class per icon in its CSS
# (0.27 MB), which draw every <i class="fa-...">, and as fontawesome.js (1.49 MB on every page),
# which only swaps those <i> for inline SVGs "so that users can add custom icons". The book adds
# none, so the script goes (its tag is in the theme's template, hence the written pages).
FONTAWESOME_JS = re.compile(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>')


# It also loads Sphinx's search index and tools (0.2 MB) on every page for its search-as-you-type
# box; that is off (search_as_you_type = False), so only search.html uses them.
SEARCH_SCRIPTS = re.compile(r'\s*<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|'
                            r'searchindex\.js)"></script>')


# The GitHub logo was the only icon from Font Awesome's brands font (0.12 MB downloaded for it);
# the repository button shows the code-branch icon of the solid font every page loads anyway.
BRAND_ICON = ('<i class="fab fa-github"></i>', '<i class="fa-solid fa-code-branch"></i>')


def drop_icon_script(html: str, search_page: bool = False) -> str:
    """``html`` without the theme's fontawesome.js script tag and brands-font icon (and, but on the
    search page, without the search index and tools)."""
    html = FONTAWESOME_JS.sub("", html).replace(*BRAND_ICON)
    return html if search_page else SEARCH_SCRIPTS.sub("", html)


def rewrite_pages(app: Sphinx, rewrite: Callable[[str, Path], str]) -> None:
    """Apply ``rewrite(html, path)`` to every written page of an HTML build (for what the theme's
    templates write as it is; called at ``build-finished``)."""
    if app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for path in outdir.rglob("*.html"):
        if path.relative_to(outdir).parts[0] in ("vendor", "_static"):
            continue
        text = path.read_text(encoding="utf-8")
        fixed = rewrite(text, path)
        if fixed != text:
            path.write_text(fixed, encoding="utf-8")


def drop_icon_script_from_pages(app: Sphinx, exception: Exception | None) -> None:
    if exception is None:
        rewrite_pages(app, lambda html, path: drop_icon_script(
            html, search_page=path.name == "search.html" and path.parent == Path(app.outdir)))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("build-finished", drop_icon_script_from_pages)
    # Late priority: run after the theme and myst-nb have added their per-page scripts.
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
