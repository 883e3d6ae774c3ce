"""The bibliography as readers cite it: "[Goyal et al., 2017]", not pybtex's alpha labels.

The chapter cites author–year ("(Nesterov, 1983)", ``bibtex_reference_style: author_year``), but
the list used pybtex's ``alpha`` labels, which mangle names with accents or braces
([GDollarG+17] for Goyal, Dollár, Girshick et al., [MarvcenkoP67] for Marčenko & Pastur). The
``dldna`` style (``bibtex_default_style``) labels every entry by its authors' last names (one, two,
or "et al.") and year, as in the text, sorted by author and year; two works that would share a
label get a, b. Its HTML is a list a screen reader understands: docutils writes ``role="list"``
around ``role="doc-biblioentry"`` items, which ARIA 1.2 deprecates and axe-core reports
(``aria-required-children``, critical); the items are ``listitem``\\s here.
"""
from __future__ import annotations

import codecs
import re
from collections import Counter
from typing import Any, Iterable

from docutils import nodes
from sphinx.application import Sphinx


def plain_name(latex: str) -> str:
    """A BibTeX name part as text: accents as Unicode, braces gone (``Dolla{\\'r}`` → ``Dollár``)."""
    import latexcodec  # noqa: F401  (registers the "ulatex" codec; pybtex brings it)

    return re.sub(r"[{}]", "", codecs.decode(latex, "ulatex")).strip()


def author_year(entry: Any) -> str:
    """"Nesterov, 1983", "Glorot and Bengio, 2010", "Goyal et al., 2017"."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [plain_name(" ".join(p.prelast_names + p.last_names)) for p in people]
    if not names:
        names = [plain_name(entry.fields.get("organization", entry.key))]
    who = names[0] if len(names) == 1 else (f"{names[0]} and {names[1]}" if len(names) == 2 else f"{names[0]} et al.")
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


def _register() -> None:
    from pybtex.plugin import register_plugin
    from pybtex.style.formatting.unsrt import Style as Unsrt
    from pybtex.style.labels import BaseLabelStyle

    class AuthorYearLabels(BaseLabelStyle):
        def format_labels(self, sorted_entries: Iterable[Any]) -> Iterable[str]:
            entries = list(sorted_entries)
            labels = [author_year(e) for e in entries]
            counts, seen = Counter(labels), Counter()
            for label in labels:
                if counts[label] > 1:   # "Kingma & Ba, 2015a", "… 2015b"
                    seen[label] += 1
                    yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
                else:
                    yield label

    class DldnaStyle(Unsrt):
        default_label_style = "dldna_author_year"
        default_sorting_style = "author_year_title"

    register_plugin("pybtex.style.labels", "dldna_author_year", AuthorYearLabels, force=True)
    register_plugin("pybtex.style.formatting", "dldna", DldnaStyle, force=True)


def visit_citation(self: Any, node: nodes.Element) -> None:
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def depart_citation(self: Any, node: nodes.Element) -> None:
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        self.body.append("</div>\n")


def setup(app: Sphinx) -> dict[str, Any]:
    _register()
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
