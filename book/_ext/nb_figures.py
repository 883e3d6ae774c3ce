"""Figures with words: cell outputs shown with a caption become numbered figures on the site.

A page shows a figure with ``dldna_helpers.figures.show(fig, caption=..., alt=...)`` (or an
interactive figure with ``widgets.interactive_figure(..., caption=...)``). The output's metadata
then holds ``{"image/png": {"caption": ..., "alt": ...}}`` (``text/html`` for a slider figure).
myst-nb does not pass output metadata on (only ``width``/``height``), so this extension reads it
from the executed notebook myst-nb writes next to the build (``jupyter_execute/<page>.ipynb``) and
matches every output to its place in the page by content (the SHA-256 of the PNG bytes, which
myst-nb also names the image file by, or of the HTML text). Why a Sphinx event handler rather than
a myst-nb render plugin: a plugin is found only through an installed package's entry point, so a
build in a checkout whose package was installed before the plugin existed would silently lose
every caption; this extension is loaded from ``_config.yml`` like the others.

At ``doctree-read`` (every builder, so a PDF gets the captions too) each such output is wrapped in
a figure (:class:`numbered_output`, rendered as a ``figure``) with the caption "그림 N. …", N counted from 1 on every page (like the equations,
``math_numfig: false``), and the image gets its ``alt`` text and ``loading="lazy"``. Sphinx's own
figure numbers stay off (they would count across the whole book), so the numbers are the page's.

At ``doctree-resolved`` (HTML only) every output image is linked to its file (tap to enlarge: the
full-resolution PNG, which a phone can zoom), and the frames of a slider figure, which the
notebook carries as ``data:`` URIs so that Colab needs no files, are written to ``_images/`` and
referred to by URL, so that a page loads only the frame it shows (pages stay under 3 MB).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.osutil import relative_uri

logger = logging.getLogger(__name__)

CAPTIONED_TYPES = ("image/png", "text/html")
DATA_URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")
SLIDER_CLASS = "dldna-figure-slider"
FRAME_FOLDER = "_images"


class numbered_output(nodes.figure):  # noqa: N801 - a docutils node class is named like its tag
    """A figure numbered by this extension, per page. A subclass, so that Sphinx's own figure
    numbering (which would need an id and count across the whole book) leaves it alone."""


def _visit(self: Any, node: nodes.Element) -> None:
    self.visit_figure(node)


def _depart(self: Any, node: nodes.Element) -> None:
    self.depart_figure(node)


def figure_label(number: int) -> str:
    """The label in front of a caption (the reader notebook writes the same)."""
    return f"그림 {number}."


def _digest(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def captioned_outputs(notebook: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Content hash → {caption, alt} for every output whose metadata gives a caption.

    The PNG is keyed by the SHA-256 of its bytes, an HTML output by that of its text."""
    found: dict[str, dict[str, str]] = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            for mime in CAPTIONED_TYPES:
                meta = (output.get("metadata") or {}).get(mime) or {}
                content = (output.get("data") or {}).get(mime)
                if not meta.get("caption") or content is None:
                    continue
                text = "".join(content) if isinstance(content, list) else content
                try:
                    key = _digest(base64.b64decode(text)) if mime == "image/png" else _digest(text)
                except (binascii.Error, ValueError):
                    continue
                found[key] = {"caption": str(meta["caption"]), "alt": str(meta.get("alt", "") or "")}
    return found


def _executed_notebook(app: Sphinx, docname: str) -> dict[str, Any] | None:
    """The executed notebook of ``docname`` with its outputs: the copy myst-nb writes next to the
    build, or — when the build read the page from a jupyter-cache (scripts/build_book.sh executes
    pages first, then builds with ``execute_notebooks: cache``), whose written copy carries no
    outputs — the cached notebook itself."""
    config = getattr(app.env, "mystnb_config", None)
    if config is None:
        return None
    notebook = None
    if config.output_folder:
        *folders, name = docname.split("/")
        path = Path(config.output_folder).joinpath(*folders, name + ".ipynb")   # as myst-nb writes it
        if path.is_file():
            try:
                notebook = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                notebook = None
    if notebook is not None and any(cell.get("outputs") for cell in notebook.get("cells", [])):
        return notebook
    return _cached_notebook(app, docname) or notebook


def _cached_notebook(app: Sphinx, docname: str) -> dict[str, Any] | None:
    """The notebook the jupyter-cache of the build holds for ``docname``'s source, if any."""
    config = app.env.mystnb_config
    if config.execution_mode != "cache" or not config.execution_cache_path:
        return None
    try:
        import nbformat
        from jupyter_cache import get_cache

        cache = get_cache(config.execution_cache_path)
        source = Path(app.env.doc2path(docname)).resolve()
        for record in cache.list_cache_records():
            if record.uri and Path(record.uri).resolve() == source:
                return json.loads(nbformat.writes(cache.get_cache_bundle(record.pk).nb))
    except Exception as err:  # noqa: BLE001 - a missing caption is reported by the tests, not fatal here
        logger.warning(f"nb_figures: could not read the cached notebook of {docname}: {err}")
    return None


def _bundle_key(app: Sphinx, bundle: nodes.Element) -> str | None:
    """The content hash of a mime bundle's PNG or HTML part (what :func:`captioned_outputs` keys)."""
    for container in bundle.children:
        mime = container.get("mime_type")
        if mime == "image/png":
            for image in container.findall(nodes.image):
                path = Path(app.srcdir) / image["uri"].lstrip("/")
                if path.is_file():
                    return _digest(path.read_bytes())
        elif mime == "text/html":
            for raw in container.findall(nodes.raw):
                return _digest(raw.astext())
    return None


def _caption_node(number: int, caption: str) -> nodes.caption:
    node = nodes.caption("", "")
    node += nodes.inline("", figure_label(number), classes=["dldna-figure-number"])
    node += nodes.Text(" " + caption)
    return node


def number_figures(app: Sphinx, doctree: nodes.document) -> None:
    """Wrap every captioned output of the page in a numbered figure with its alt text."""
    notebook = _executed_notebook(app, app.env.docname)
    if notebook is None:
        return
    captioned = captioned_outputs(notebook)
    if not captioned:
        return
    number = 0
    bundles = [n for n in doctree.findall(nodes.container) if n.get("nb_element") == "mime_bundle"]
    for bundle in bundles:
        meta = captioned.get(_bundle_key(app, bundle) or "")
        if meta is None:
            continue
        number += 1
        for image in bundle.findall(nodes.image):
            if meta["alt"]:
                image["alt"] = meta["alt"]
            image["loading"] = "lazy"
            image["classes"].append("dldna-figure-image")
        for raw in bundle.findall(nodes.raw):
            raw["dldna_figure_number"] = number
        figure = numbered_output("", classes=["dldna-figure"])
        figure["dldna_number"] = number
        bundle.replace_self(figure)
        figure += bundle
        figure += _caption_node(number, meta["caption"])


def _images_uri(app: Sphinx, docname: str) -> str:
    return relative_uri(app.builder.get_target_uri(docname), FRAME_FOLDER)


def _frames_to_files(app: Sphinx, html: str, images_uri: str) -> str:
    """Every PNG ``data:`` URI in ``html`` written to ``_images/`` and replaced by its URL."""
    folder = Path(app.outdir) / FRAME_FOLDER
    folder.mkdir(parents=True, exist_ok=True)

    def to_file(match: re.Match[str]) -> str:
        data = base64.b64decode(match.group(1))
        name = f"frame-{_digest(data)[:32]}.png"
        target = folder / name
        if not target.exists():
            target.write_bytes(data)
        return f"{images_uri}/{name}"

    return DATA_URI.sub(to_file, html)


def _in_cell_output(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, numbered_output) or (isinstance(parent, nodes.container)
                                                   and "cell_output" in parent.get("classes", [])):
            return True
        parent = parent.parent
    return False


def link_and_serve(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """HTML only: output figures link to their full-resolution file; slider frames become files."""
    if app.builder.format != "html":
        return
    images_uri = _images_uri(app, docname)
    for image in list(doctree.findall(nodes.image)):
        if _in_cell_output(image) and not isinstance(image.parent, nodes.reference):
            candidate = image.get("candidates", {}).get("*", image["uri"])
            known = app.env.images.get(candidate)
            if not known:
                continue
            link = nodes.reference("", "", refuri=f"{images_uri}/{known[1]}", internal=True,
                                   classes=["dldna-enlarge"])
            image.replace_self(link)
            link += image
    for raw in list(doctree.findall(nodes.raw)):
        text = raw.astext()
        if SLIDER_CLASS in text and "data:image/png;base64," in text:
            raw.replace_self(nodes.raw("", _frames_to_files(app, text, images_uri), format="html",
                                       classes=raw["classes"]))


def setup(app: Sphinx) -> dict[str, Any]:
    visitors = {fmt: (_visit, _depart) for fmt in ("html", "latex", "text", "man", "texinfo")}
    app.add_node(numbered_output, **visitors)
    app.connect("doctree-read", number_figures)
    app.connect("doctree-resolved", link_and_serve)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
