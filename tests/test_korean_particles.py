"""The site's particle rule after glued values (book/_ext/korean_particles.py)."""
from __future__ import annotations

import sys
from pathlib import Path

from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.utils import new_document

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import korean_particles  # noqa: E402


def paragraph(value: str, after: str) -> nodes.document:
    doc = new_document("test", get_default_settings())
    para = nodes.paragraph()
    para += nodes.Text("값은 ")
    para += nodes.inline(value, value, classes=["pasted-text"])
    para += nodes.Text(after)
    doc += para
    return doc


def test_the_particle_after_a_pasted_value_fits_it():
    for value, after, expected in [("0.6", "(으)로 줄었습니다", "값은 0.6으로 줄었습니다"),
                                   ("7", "(으)로 줄었습니다", "값은 7로 줄었습니다"),
                                   ("1.316", "이(가) 큽니다", "값은 1.316이 큽니다"),
                                   ("AdaGrad", "은(는)", "값은 AdaGrad는"),
                                   ("0.5328", "와(과) 같다", "값은 0.5328과 같다"),
                                   ("0.6", "입니다", "값은 0.6입니다")]:
        doc = paragraph(value, after)
        korean_particles.resolve_particles(None, doc)
        assert doc.astext() == expected


def test_a_value_the_rule_cannot_read_keeps_the_generic_form():
    doc = paragraph("→", "(으)로")
    korean_particles.resolve_particles(None, doc)
    assert doc.astext() == "값은 →(으)로"
