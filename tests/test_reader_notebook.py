"""The MyST → Jupyter-markdown conversion of the reader notebooks, on small made-up pages."""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import reader_notebook as rn  # noqa: E402

BIB = {
    "kingma2014adam": {"last_names": "Kingma\x1fBa", "authors": "Diederik P. Kingma, Jimmy Ba", "year": "2014",
                       "title": "Adam: A method for stochastic optimization", "venue": "ICLR", "url": ""},
    "li2018visualizing": {"last_names": "Li\x1fXu\x1fTaylor", "authors": "Hao Li, Zheng Xu, Gavin Taylor",
                          "year": "2018", "title": "Visualizing the loss landscape", "venue": "NeurIPS", "url": ""},
    "polyak1964": {"last_names": "Polyak", "authors": "B. T. Polyak", "year": "1964", "title": "Some methods",
                   "venue": "", "url": ""},
}


def ctx(**glue: str) -> rn.PageContext:
    return rn.PageContext(glue=glue, equations={"eq-a": 1, "eq-b": 2},
                          titles={"book/loss_landscape": "5.3 손실 표면 시각화"}, bibliography=BIB,
                          page="book/optimizers")


def test_roles_become_plain_text():
    c = ctx(acc="91.2", lr="0.1")
    text = rn.convert_markdown(
        "정확도는 {glue:text}`acc`%, {term}`학습률`은 {glue:text}`lr`입니다. {term}`SGD <확률적 경사 하강법>` "
        "{cite}`kingma2014adam` {cite}`li2018visualizing,polyak1964` {eq}`eq-b` {doc}`loss_landscape`", c)
    assert text == ("정확도는 91.2%, 학습률은 0.1입니다. SGD (Kingma & Ba, 2014) (Li et al., 2018; Polyak, 1964) "
                    "식 (2) ‘5.3 손실 표면 시각화’")
    assert c.cited == ["kingma2014adam", "li2018visualizing", "polyak1964"]


def test_inline_code_that_shows_a_role_stays_verbatim():
    assert rn.convert_markdown("쓰는 법: `{eq}` 와 `x`", ctx()) == "쓰는 법: `{eq}` 와 `x`"


def test_labelled_display_gets_its_page_number_and_targets_vanish():
    text = rn.convert_markdown("(sec-x)=\n## 제목\n\n$$\nv = \\mu v + g\n$$ (eq-b)\n", ctx())
    assert text == "## 제목\n\n$$\nv = \\mu v + g \\tag{2}\n$$"


def test_equation_numbers_count_labelled_displays_in_page_order():
    cells = ["$$ a $$ (first)\n\n$$ b $$", ":::{admonition} x\n$$\nc\n$$ (second)\n:::"]
    assert rn.equation_numbers(cells) == {"first": 1, "second": 2}
    with pytest.raises(rn.ConversionError, match="twice"):
        rn.equation_numbers(["$$ a $$ (same)", "$$ b $$ (same)"])


def test_admonition_becomes_a_quote_with_math_on_one_line():
    text = rn.convert_markdown(":::{admonition} 심화: 유도\n:class: dropdown\n\n본문 {term}`모멘텀`\n\n$$\nx\n+ y\n$$\n:::",
                               ctx())
    assert text == "> **심화: 유도**\n>\n> 본문 모멘텀\n>\n> $$x + y$$"


def test_exercise_and_collapsed_solution():
    source = ("## 문제 1\n\n```{exercise} 세 단계\n:label: ex-a\n\n계산하세요.\n```\n\n"
              "```{solution-start} ex-a\n:class: dropdown\n```\n\n풀이의 첫 문단.\n")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 연습 문제\n\n소개"),
        nbformat.v4.new_markdown_cell(source),
        nbformat.v4.new_code_cell("print(1)"),
        nbformat.v4.new_markdown_cell("풀이의 끝.\n\n```{solution-end}\n```\n\n다음 문제로."),
        nbformat.v4.new_code_cell("print(2)"),
    ])
    out = rn.reader_notebook(nb, ctx())
    md = [c.source for c in out.cells if c.cell_type == "markdown"]
    assert md[0].startswith("# 연습 문제\n\n" + rn.READER_NOTE)
    assert md[1] == ("## 문제 1\n\n> **문제: 세 단계**\n>\n> 계산하세요.\n\n#### 해답\n\n<details>\n"
                     f"<summary>{rn.SOLUTION_SUMMARY}</summary>\n\n풀이의 첫 문단.\n\n</details>")
    assert md[2].startswith("<details>\n<summary>해답 이어서 보기</summary>\n\n풀이의 끝.\n\n</details>")
    assert md[2].endswith("</details>\n\n다음 문제로.")
    solution, after = [c for c in out.cells if c.cell_type == "code"]
    assert solution.metadata["cellView"] == "form" and solution.metadata["jupyter"]["source_hidden"]
    assert rn.strip_added_title(solution.source) == "print(1)"
    assert "jupyter" not in after.metadata and after.source == "print(2)"


def test_cells_the_site_hides_are_collapsed_under_a_title():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 제목"),
        nbformat.v4.new_code_cell("glue('x', 1, display=False)", metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_code_cell("table", metadata={"tags": ["remove-input"]}),
        nbformat.v4.new_code_cell("plt.show()"),
    ])
    glued, shown, plain = [c for c in rn.reader_notebook(nb, ctx()).cells if c.cell_type == "code"]
    for cell, title in ((glued, rn.HIDDEN_CODE_TITLE), (shown, rn.OUTPUT_ONLY_TITLE)):
        assert cell.metadata["cellView"] == "form" and cell.metadata["jupyter"] == {"source_hidden": True}
        assert cell.source.startswith(title + "\n")
    assert rn.strip_added_title(glued.source) == "glue('x', 1, display=False)"
    assert "cellView" not in plain.metadata and plain.source == "plt.show()"


def test_cited_works_are_listed_at_the_end():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 제목\n\n{cite}`polyak1964` {cite}`kingma2014adam`")])
    out = rn.reader_notebook(nb, ctx())
    last = out.cells[-1].source
    assert last.startswith(rn.REFERENCES_HEADING)
    assert last.index("Kingma") < last.index("Polyak")  # alphabetical, as the site's list


def test_glued_text_reads_the_record_as_myst_nb_does():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("", outputs=[
        nbformat.v4.new_output("display_data", data={rn.GLUE_PREFIX + "text/plain": "'0.92'"},
                               metadata={"scrapbook": {"name": "w2", "mime_prefix": rn.GLUE_PREFIX}}),
        nbformat.v4.new_output("display_data", data={"text/plain": "3"},
                               metadata={"scrapbook": {"name": "n", "mime_prefix": ""}}),
    ])])
    assert rn.glued_texts(nb) == {"w2": "0.92", "n": "3"}


@pytest.mark.parametrize("markdown, message", [
    ("{glue:text}`missing`", "no glued value named 'missing'"),
    ("{eq}`nowhere`", "not a labelled equation here"),
    ("{cite}`nokey`", "not in references.bib"),
    ("{doc}`nopage`", "not a page of the book"),
    ("{numref}`fig`", "has no reader-notebook form"),
    ("```{figure} x.png\n```", "has no reader-notebook form"),
    (":::{admonition} open\n", "unclosed directive"),
])
def test_what_cannot_be_converted_is_named(markdown, message):
    with pytest.raises(rn.ConversionError, match=message):
        rn.convert_markdown(markdown, ctx())


def test_references_bib_parses_for_every_cited_key():
    bib = rn.read_bibliography(ROOT / "book" / "references.bib")
    entry = bib["kingma2015adam"]
    assert entry["last_names"].split("\x1f") == ["Kingma", "Ba"] and entry["authors"].startswith("Diederik")


def test_generic_particles_after_glued_values_are_resolved():
    c = rn.PageContext(glue={"a": "0.6", "b": "1.316", "c": "0.5328", "d": "10"}, equations={}, titles={},
                       bibliography={}, page="x")
    text = rn.convert_markdown("{glue:text}`a`(으)로, {glue:text}`b`이(가), {glue:text}`c`와(과), "
                               "{glue:text}`d`은(는), {glue:text}`d`을(를) 그대로(으)로", c)
    assert text == "0.6으로, 1.316이, 0.5328과, 10은, 10을 그대로(으)로"


def test_figures_shown_with_a_caption_get_it_below_with_the_sites_number():
    png = {"image/png": "iVBORw0KGgo=", "text/plain": "<그림>"}
    shown = lambda caption, mime="image/png": nbformat.v4.new_output(  # noqa: E731
        "display_data", data=png if mime == "image/png" else {"text/html": "<div></div>"},
        metadata={mime: {"caption": caption, "alt": "설명"}})
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 제목"),
        nbformat.v4.new_code_cell("show(a)", outputs=[shown("손실 곡선"), shown("정확도 곡선")]),
        nbformat.v4.new_code_cell("plt.show()", outputs=[nbformat.v4.new_output("display_data", data=png)]),
        nbformat.v4.new_code_cell("hidden", outputs=[shown("사이트에서 지운 그림")],
                                  metadata={"tags": ["remove-output"]}),
        nbformat.v4.new_code_cell("slider", outputs=[shown("슬라이더 그림", "text/html")]),
    ])
    reader = rn.reader_notebook(nb, ctx())
    kinds = [(c.cell_type, c.source) for c in reader.cells]
    assert kinds[2] == ("markdown", "**그림 1.** 손실 곡선\n\n**그림 2.** 정확도 곡선")
    assert kinds[3][0] == "code" and kinds[4][0] == "code"   # no caption, none for a removed output
    assert kinds[5] == ("code", "slider") and kinds[6] == ("markdown", "**그림 3.** 슬라이더 그림")
