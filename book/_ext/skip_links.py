"""A skip link from a page's title to its first interactive figure or checker.

Between a chapter's title and its first slider there can be dozens of keyboard stops (a copy
button per code cell, a link per heading and equation): 206 Tab presses on page 5.2. Right after
the title, a link "첫 대화형 그림으로 건너뛰기" (or "… 확인 도구로 …"), visible when focused,
jumps there; ``dldna-site.js`` moves the focus onto the control itself.
"""
from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

# an HTML start tag carrying one of the interactive classes, with its id (in either order)
TAG = re.compile(r"<(?:div|form|section)\b[^>]*>", re.S)
KINDS = {"dldna-figure-slider": "첫 대화형 그림으로 건너뛰기", "dldna-checker": "첫 확인 도구로 건너뛰기"}


def first_interactive(html: str) -> tuple[str, str] | None:
    """(id, link text) of the first interactive element in ``html``, if it has an id."""
    for tag in TAG.finditer(html):
        classes = re.search(r"""\bclass\s*=\s*['"]([^'"]*)['"]""", tag.group(0))
        ident = re.search(r"""\bid\s*=\s*['"]([^'"]+)['"]""", tag.group(0))
        if not classes or not ident:
            continue
        for kind, text in KINDS.items():
            if kind in classes.group(1).split():
                return ident.group(1), text
    return None


def add_skip_link(app: Sphinx, doctree: nodes.document) -> None:
    target = None
    for raw in doctree.findall(nodes.raw):
        if "html" in raw.get("format", "").split():
            target = first_interactive(raw.astext())
            if target:
                break
    title = next(iter(doctree.findall(nodes.title)), None)
    if target is None or title is None:
        return
    ident, text = target
    link = nodes.raw("", f'<p class="dldna-skip"><a class="dldna-skip-link" href="#{ident}">{text}</a></p>',
                     format="html")
    title.parent.insert(title.parent.index(title) + 1, link)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-read", add_skip_link)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
