"""The site's local Sphinx extensions (book/_ext), piece by piece, without building a book."""
from __future__ import annotations

import base64
import hashlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import bibliography_style  # noqa: E402
import korean_ui  # noqa: E402
import nb_figures  # noqa: E402
import skip_links  # noqa: E402


def entry(authors: list[str], year: str = "2017"):
    from pybtex.database import Entry, Person

    return Entry("article", fields={"year": year, "title": "t"}, persons={"author": [Person(a) for a in authors]})


@pytest.mark.parametrize("authors, label", [
    (["Nesterov, Yurii"], "Nesterov, 1983"),
    (["Glorot, Xavier", "Bengio, Yoshua"], "Glorot and Bengio, 1983"),
    (["Goyal, Priya", "Doll{\\'a}r, Piotr", "Girshick, Ross"], "Goyal et al., 1983"),
    (["Mar{\\v{c}}enko, V. A.", "Pastur, L. A."], "Marčenko and Pastur, 1983"),
    (["{van der} Maaten, Laurens"], "van der Maaten, 1983"),
])
def test_bibliography_labels_are_author_year_in_plain_text(authors, label):
    assert bibliography_style.author_year(entry(authors, "1983")) == label


def test_two_works_with_one_label_get_a_and_b():
    from pybtex.plugin import find_plugin

    bibliography_style._register()
    labels = find_plugin("pybtex.style.labels", "dldna_author_year")()
    works = [entry(["Kingma, D."], "2015"), entry(["Kingma, D."], "2015"), entry(["Ba, J."], "2015")]
    assert list(labels.format_labels(works)) == ["Kingma, 2015a", "Kingma, 2015b", "Ba, 2015"]


def test_fixed_english_strings_become_korean():
    html = ('<button class="sidebar-toggle primary-toggle btn btn-sm" title="Toggle primary sidebar">'
            '<nav aria-label="Page"></nav>')
    out = korean_ui.korean_strings(html)
    assert "Toggle" not in out and 'aria-label="목차 열기·닫기"' in out and 'aria-label="이 페이지의 차례"' in out


def test_description_is_the_first_paragraph_of_prose_shortened():
    from docutils import nodes

    doc = nodes.document(None, None)
    section = nodes.section()
    section += nodes.title(text="제목")
    section += nodes.paragraph(text="짧은 문장.")
    long = "손실 함수의 그래디언트를 구하는 일은 역전파가 맡습니다. " * 8
    section += nodes.paragraph(text=long)
    doc += section
    text = korean_ui.page_description(doc, "대신")
    assert text.startswith("손실 함수의") and text.endswith("…") and len(text) <= korean_ui.DESCRIPTION_CHARS + 1
    assert korean_ui.page_description(None, "대신") == "대신"


def test_skip_link_target_is_the_first_slider_or_checker_with_an_id():
    html = ("<div class='other' id='x'></div><div id='dldna-fig-1' class='dldna-figure-slider'></div>"
            "<div class=\"dldna-checker\" id=\"c\"></div>")
    assert skip_links.first_interactive(html) == ("dldna-fig-1", "첫 대화형 그림으로 건너뛰기")
    assert skip_links.first_interactive("<div class='dldna-checker'></div>") is None   # no id: no link
    assert skip_links.first_interactive("<form class='dldna-checker x' id='q'>") == ("q", "첫 확인 도구로 건너뛰기")


def test_captioned_outputs_are_keyed_by_their_content():
    png = b"\x89PNG fake bytes"
    html = "<div class='dldna-figure-slider'></div>"
    notebook = {"cells": [{"outputs": [
        {"output_type": "display_data", "data": {"image/png": base64.b64encode(png).decode()},
         "metadata": {"image/png": {"caption": "손실 곡선", "alt": "손실이 줄어드는 곡선"}}},
        {"output_type": "execute_result", "data": {"text/html": [html[:10], html[10:]]},
         "metadata": {"text/html": {"caption": "슬라이더 그림", "alt": "첫 프레임"}}},
        {"output_type": "display_data", "data": {"image/png": "AAAA"}, "metadata": {}},   # plt.show(): no words
        {"output_type": "stream", "text": "x"},
    ]}]}
    found = nb_figures.captioned_outputs(notebook)
    assert found == {hashlib.sha256(png).hexdigest(): {"caption": "손실 곡선", "alt": "손실이 줄어드는 곡선"},
                     hashlib.sha256(html.encode()).hexdigest(): {"caption": "슬라이더 그림", "alt": "첫 프레임"}}
    assert nb_figures.figure_label(3) == "그림 3."
