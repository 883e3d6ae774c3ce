"""The book's PDF (scripts/build_pdf.sh): the site's download link, and a one-page build it prints.

- Site (``html`` builder): sphinx-book-theme's download menu offers ".pdf", which only opens the
  browser's print dialog on one page. Here that entry links the printed book instead,
  ``PDF_NAME`` at the site's root (scripts/build_pdf.sh writes it there), so it works offline.
- The print (``singlehtml`` builder, every page in one file): nodes that only the ``html`` builder
  knows (myst-nb's folded cells …) get the same HTML there. Sphinx gives each page its own
  automatic ids (``id1``, ``id2`` … for Korean headings and citations), so in one file the same id
  names up to twelve places and a link such as a citation jumps to the first of them. Before the
  single file is written, every id that more than one page uses is made unique by its page's name,
  and the links to it follow, so every cross-reference, citation and equation link reaches its
  target (tests/test_pdf.py checks the printed links).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterator

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx

PDF_NAME = "ch05-optimization.pdf"
PDF_TEXT = "책 전체 PDF"


# ------------------------------------------------------------------ the site's download menu
def link_printed_book(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                      doctree: Any) -> None:
    """Point the download menu's ".pdf" entry (``window.print()``) at the printed book."""
    for group in context.get("header_buttons") or []:
        for button in group.get("buttons", []) if isinstance(group, dict) else []:
            if button.get("label") == "download-pdf-button":
                button.update(type="link", url=context["pathto"](PDF_NAME, 1), text=PDF_TEXT,
                              tooltip="5장 전체를 인쇄용 PDF로 내려받기")
                button.pop("javascript", None)


# ------------------------------------------------------------------ unique ids in one file
def _by_page(node: nodes.Node, docname: str) -> Iterator[tuple[nodes.Element, str]]:
    """Every element of the assembled tree with the page it came from."""
    for child in node.children:
        if not isinstance(child, nodes.Element):
            continue
        page = child["docname"] if isinstance(child, addnodes.start_of_file) else docname
        yield child, page
        yield from _by_page(child, page)


def _slug(docname: str) -> str:
    return docname.replace("/", "-")


def unique_ids(tree: nodes.document, root: str) -> dict[str, dict[str, str]]:
    """Rename ids used by more than one page to ``<page>--<id>``; returns page → {old: new}."""
    pages_of: dict[str, set[str]] = defaultdict(set)
    elements = list(_by_page(tree, root))
    for element, page in elements:
        for ident in element.get("ids", []):
            pages_of[ident].add(page)
    shared = {ident for ident, pages in pages_of.items() if len(pages) > 1}
    renamed: dict[str, dict[str, str]] = defaultdict(dict)
    for element, page in elements:
        new = renamed[page]
        for ident in shared & set(element.get("ids", [])):
            new[ident] = f"{_slug(page)}--{ident}"
        element["ids"] = [new.get(i, i) if i in shared else i for i in element.get("ids", [])]
    for element, page in elements:   # links inside a page (footnotes, back-references)
        new = renamed[page]
        if element.get("refid") in new:
            element["refid"] = new[element["refid"]]
        if element.get("backrefs"):
            element["backrefs"] = [new.get(b, b) for b in element["backrefs"]]
    return dict(renamed)


def relink(tree: nodes.Node, renamed: dict[str, dict[str, str]], root: str = "", root_id: str = "") -> None:
    """``#document-<page>#<id>`` (a link to another page, before Sphinx drops the page) → new id;
    ``#document-<root>`` → the root page's first section (Sphinx marks every page but the root)."""
    for ref in tree.findall(nodes.reference):
        uri = ref.get("refuri", "")
        if uri.startswith("#document-") and uri.count("#") == 2:
            page, _, ident = uri[len("#document-"):].partition("#")
            ref["refuri"] = f"#document-{page}#{renamed.get(page, {}).get(ident, ident)}"
        elif root_id and uri == f"#document-{root}":
            ref["refuri"] = f"#{root_id}"


def _patch_single_file_builder(app: Sphinx) -> None:
    builder = app.builder
    if builder.name != "singlehtml":
        return
    # Sphinx looks up node handlers by builder name and falls back to the format ("html") only
    # when no extension registered any for "singlehtml"; sphinx-exercise does, so myst-nb's folded
    # cells and other html-only nodes crashed the one-page build. They render as on the site.
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for name, pair in handlers.get("html", {}).items():
        single.setdefault(name, pair)
    fix_refuris, fignumbers = builder.fix_refuris, builder.assemble_toc_fignumbers
    renamed: dict[str, dict[str, str]] = {}

    root_id: list[str] = []

    def fix(tree: nodes.Node) -> None:
        if isinstance(tree, nodes.document) and not renamed:
            renamed.update(unique_ids(tree, app.config.root_doc))
            first = next(iter(tree.findall(nodes.section)), None)
            if first is not None and first["ids"]:
                root_id.append(first["ids"][0])
        relink(tree, renamed, app.config.root_doc, root_id[0] if root_id else "")
        fix_refuris(tree)

    def numbers() -> dict[str, Any]:   # keyed by the figure's id, which may have been renamed
        assembled = fignumbers()
        for key, by_id in assembled.get(app.config.root_doc, {}).items():
            page = key.rsplit("/", 1)[0]
            new = renamed.get(page, {})
            assembled[app.config.root_doc][key] = {new.get(i, i): n for i, n in by_id.items()}
        return assembled

    builder.fix_refuris = fix
    builder.assemble_toc_fignumbers = numbers


def setup(app: Sphinx) -> dict[str, Any]:
    # after sphinx-book-theme's add_header_buttons (priority 501) has built the menu
    app.connect("html-page-context", link_printed_book, priority=600)
    app.connect("builder-inited", _patch_single_file_builder)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
