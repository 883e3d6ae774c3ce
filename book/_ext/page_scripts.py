"""Remove duplicated inline scripts from the HTML pages.

With jupyter-book 1.0.4 (Sphinx 7.4, sphinx-thebe 0.3) every page carries the inline
script ``const THEBE_JS_URL = ...`` twice; the second copy throws "Identifier
'THEBE_JS_URL' has already been declared" in the reader's console (the browser tests
fail on any JavaScript error). Keeping the first of identical script entries fixes it
without touching the theme or sphinx-thebe.
"""
from __future__ import annotations

from typing import Any

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


def setup(app: Sphinx) -> dict[str, Any]:
    # Late priority: run after the theme and myst-nb have added their per-page scripts.
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
