"""Particles after glued values, chosen for the value the build actually pasted.

The prose cannot know a glued number in advance, so it writes the particle in its generic
form after ``{glue:text}``: "(으)로", "이(가)", "은(는)", "을(를)", "와(과)". Once myst-nb has
pasted the value (an inline node with the class ``pasted-text``), the right particle is
known: this transform replaces the generic form that follows the value with it (0.6으로,
1.316이, 0.5328과), using the same rule as the pages' own phrases
(:func:`dldna_helpers.report.josa`). A value the rule cannot read keeps the generic form.
"""
from __future__ import annotations

import re

from docutils import nodes
from sphinx.application import Sphinx

GENERIC = {"(으)로": "으로/로", "이(가)": "이/가", "은(는)": "은/는", "을(를)": "을/를",
           "와(과)": "과/와", "과(와)": "과/와"}
LEADING = re.compile("^(" + "|".join(re.escape(g) for g in GENERIC) + ")")


def resolve_particle(value: str, text: str) -> str | None:
    """``text`` (what follows ``value``) with a leading generic particle resolved, else None."""
    from dldna_helpers.report import josa

    match = LEADING.match(text)
    if not match:
        return None
    try:
        particle = josa(value, GENERIC[match.group(1)])
    except ValueError:   # e.g. a value ending in a symbol the rule cannot read aloud
        return None
    return particle + text[match.end():]


def resolve_particles(app: Sphinx, doctree: nodes.document) -> None:
    for pasted in list(doctree.findall(lambda n: isinstance(n, nodes.inline) and "pasted-text" in n["classes"])):
        parent = pasted.parent
        index = parent.index(pasted)
        if index + 1 >= len(parent.children) or not isinstance(parent[index + 1], nodes.Text):
            continue
        following = parent[index + 1]
        resolved = resolve_particle(pasted.astext(), str(following))
        if resolved is not None:
            parent.replace(following, nodes.Text(resolved))


def setup(app: Sphinx) -> dict:
    app.connect("doctree-read", resolve_particles)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
