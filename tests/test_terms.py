"""One Korean term per concept, particles that fit any glued value, no e-notation in prose.

Checked over the prose of every ``.md`` page of ``book/`` and ``exercises/`` (code cells,
inline code and math are not prose), and over the text values the notebooks glue into it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([*ROOT.glob("book/*.md"), *ROOT.glob("exercises/*.md")])
NOTEBOOKS = sorted([*ROOT.glob("book/*.ipynb"), *ROOT.glob("exercises/*.ipynb")])

# "단계" is the book's word for a stage or phase; an optimizer's update is a 스텝.
_STEP = (r"(?m)(?:(?:\d[\d,.]*|[⟩⟧])\s?단계(?!적))|단계 수|(?:매|각|몇|개) 단계|단계 t\b"
         r"|(?:한|두|세|네|다섯) 단계(?:를| 만에| 동안| 뒤|\s*$)")
TERMS = [  # (variant the book does not use, the book's term)
    (r"옵티마이저", "최적화기"),
    (r"오류율", "오차율"),
    (r"특이값", "특잇값"),
    (r"적응적", "적응형"),
    (r"부분 준위 집합|준위 집합", "하위 수준 집합"),
    (r"거듭제곱 반복", "거듭제곱법"),
    (r"헤세-벡터 곱", "헤세 행렬-벡터 곱"),
    (_STEP, "스텝 (최적화기의 갱신 한 번)"),
    (r"걸음 크기", "보폭"),
    (r"채점기", "확인 도구"),
    (r"원래 장|장의 원본|원본에는|원본이", "원서"),
]

# Particles whose form depends on the last sound of the word before them (이/가, 을/를, (으)로 ...).
_FIXED_PARTICLES = {"이", "가", "은", "는", "을", "를", "과", "와", "로", "으로", "이나", "나", "야", "아"}
_FIXED_PREFIXES = ("으로", "로서", "로써", "로는", "로도", "로의", "로만", "였", "이었", "과의", "와의", "과는", "와는",
                   "라는", "이라는", "라고", "이라고")
_NOT_PARTICLES = ("가량", "가까이", "이상", "이하", "이내", "이후", "이전", "로그")
_BOTH_FORMS = ("와(과)", "과(와)", "을(를)", "를(을)", "이(가)", "가(이)", "은(는)", "는(은)")  # fit any value

E_NOTATION = re.compile(r"(?<![\w.])\d+(?:\.\d+)?[eE][+−-]?\d+\b")
GLUE = re.compile(r"\{glue(?::\w*)?\}`([^`]+)`")


def prose(text: str) -> str:
    """The prose of a MyST page: no front matter, code cells, code fences, math or inline code.

    Directive fences that hold prose ({glossary}, {admonition} ...) are kept; roles that only
    name a target ({cite}, {doc}, {eq}, {ref}) are dropped, {term} keeps its text, and glue
    roles become ⟨name⟩ so that the word after them can still be checked.
    """
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)

    def fence(match: re.Match) -> str:
        info = match.group(2).strip()
        keep = info.startswith("{") and not info.startswith(("{code-cell}", "{math}"))
        title = re.sub(r"^\{[\w-]+\}\s*", "", info)   # an exercise's or admonition's title is prose too
        return f"{title}\n{match.group(3)}" if keep else ""

    text = re.sub(r"^(```+|~~~+)([^\n]*)\n(.*?)^\1\s*$", fence, text, flags=re.S | re.M)
    text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", "⟦⟧", text)   # a placeholder, so that "$k$단계" is still seen
    text = GLUE.sub(lambda m: f"⟨{m.group(1)}⟩", text)
    text = re.sub(r"\{term\}`([^`<]+?)(?:\s*<[^`]+>)?`", r"\1", text)
    text = re.sub(r"\{\w+\}`[^`]*`", "", text)
    text = re.sub(r"`[^`\n]*`", "", text)
    return text


def _context(text: str, match: re.Match, width: int = 20) -> str:
    return text[max(0, match.start() - width):match.end() + width].replace("\n", " ")


def term_violations(text: str) -> list[str]:
    found = []
    for pattern, term in TERMS:
        for match in re.finditer(pattern, text):
            found.append(f"'{match.group(0)}' → {term}: …{_context(text, match)}…")
    return found


def fixed_particle(after: str) -> bool:
    """True when the Hangul right after a glued value is a particle that only fits some values."""
    run = re.match(r"[가-힣]*", after).group(0)
    if not run or run.startswith(_NOT_PARTICLES) or after.startswith(_BOTH_FORMS):
        return False
    return run in _FIXED_PARTICLES or run.startswith(_FIXED_PREFIXES)


def particle_violations(text: str) -> list[str]:
    found = []
    for match in re.finditer(r"⟨([^⟩]+)⟩", text):
        after = text[match.end():match.end() + 8]
        if fixed_particle(after):
            found.append(f"{match.group(0)}{after[:3]} — report.josa/with_josa로 붙이거나 (으)로처럼 쓰세요: "
                         f"…{_context(text, match)}…")
    return found


def glued_texts(path: Path) -> dict[str, str]:
    """name → text of every value a committed notebook glues into its prose."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    values = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            plain = [v for k, v in output.get("data", {}).items() if k.endswith("text/plain")]
            if record and plain:
                text = "".join(plain[0]) if isinstance(plain[0], list) else plain[0]
                values[record["name"]] = text.strip("'\"")
    return values


# The checks themselves must catch what they are for (and spare what they are not for).
def test_the_checks_catch_the_wrong_forms_and_spare_the_right_ones():
    page = ("---\ntitle: x\n---\n옵티마이저와 특이값\n\n```{code-cell} ipython3\nx = '오류율 1e-3'\n```\n"
            "```{exercise} 모멘텀 두 단계\n본문\n```\n"
            "```{glossary}\n적응적 학습률\n```\n`3e-4` 와 $10^{-4}$ 그리고 {glue:text}`a`로 {glue:text}`b`배 4.2e-11\n"
            "{glue:text}`c`이고 {glue:text}`d` 이상, 200단계 뒤, 두 번째 단계, 한 단계 더, 세 단계 만에, $k$단계 전\n")
    text = prose(page)
    assert "오류율" not in text and "3e-4" not in text and "title" not in text  # code, inline code, front matter
    found = [v.split("'")[1] for v in term_violations(text)]
    assert sorted(found) == sorted(["옵티마이저", "특이값", "두 단계", "적응적", "200단계", "세 단계 만에", "⟧단계"])
    assert [v.split(" ")[0] for v in particle_violations(text)] == ["⟨a⟩로"]
    assert E_NOTATION.findall(text) == ["4.2e-11"]
    assert fixed_particle("를 넘는") and fixed_particle("으로") and fixed_particle("였습니다")
    assert not fixed_particle("배입니다") and not fixed_particle("이고") and not fixed_particle("입니다")
    assert not fixed_particle("가량") and not fixed_particle(" 이상") and not fixed_particle("와(과) 같은")
    assert fixed_particle("와 같은") and fixed_particle("과 같은")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_one_term_per_concept(page: Path):
    found = term_violations(prose(page.read_text(encoding="utf-8")))
    assert not found, f"{page.name}: 이 책의 용어와 다른 표기\n" + "\n".join(found)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_particles_after_glued_values_fit_any_value(page: Path):
    found = particle_violations(prose(page.read_text(encoding="utf-8")))
    assert not found, f"{page.name}: 값에 따라 틀릴 수 있는 조사\n" + "\n".join(found)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_e_notation_in_prose(page: Path):
    found = E_NOTATION.findall(prose(page.read_text(encoding="utf-8")))
    assert not found, f"{page.name}: 본문에 e 표기 {found} — 4.2×10⁻¹¹처럼 쓰세요 (report.sci)"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_glued_text_has_no_e_notation_and_uses_the_book_terms(notebook: Path):
    bad = {}
    for name, text in glued_texts(notebook).items():
        problems = E_NOTATION.findall(text) + term_violations(text)
        if problems:
            bad[name] = problems
    assert not bad, f"{notebook.name}: 본문에 붙는 값 {bad}"


DOC_PARTICLE = re.compile(r"\{doc\}`([^`]*)`(으로|로|과|와|은|는|이|가|을|를)")
PARTICLE_PAIR = {"과": "과/와", "와": "과/와", "은": "은/는", "는": "은/는", "이": "이/가", "가": "이/가",
                 "을": "을/를", "를": "을/를", "으로": "으로/로", "로": "으로/로"}


@pytest.mark.parametrize("page", sorted([*ROOT.glob("book/*.md"), *ROOT.glob("exercises/*.md")]),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_particles_after_page_links_fit_the_title(page):
    """{doc}`loss_landscape` shows "5.3 손실 표면 시각화": the particle after it must fit that title."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import reader_notebook
    from dldna_helpers.report import josa

    titles = reader_notebook.page_titles(ROOT)
    wrong = []
    for target, particle in DOC_PARTICLE.findall(page.read_text(encoding="utf-8")):
        doc = reader_notebook._normpath((page.parent.relative_to(ROOT) / target).as_posix())
        title = titles[doc]
        if josa(title, PARTICLE_PAIR[particle]) != particle:
            wrong.append(f"{title}{particle} → {title}{josa(title, PARTICLE_PAIR[particle])}")
    assert wrong == [], wrong


EQ_PARTICLE = re.compile(r"\{eq\}`([^`]+)`(으로|로|과|와|은|는|이|가|을|를)(?![가-힣])")


@pytest.mark.parametrize("page", sorted([*ROOT.glob("book/*.md"), *ROOT.glob("exercises/*.md")]),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_particles_after_equation_references_fit_the_number(page):
    """{eq}`label` shows "식 (n)" with the page's own n: 식 (10)은, 식 (2)는, 식 (3)과."""
    import sys

    import jupytext

    sys.path.insert(0, str(ROOT / "scripts"))
    import reader_notebook
    from dldna_helpers.report import josa

    text = page.read_text(encoding="utf-8")
    if "kernelspec" not in text[:1500]:
        return
    cells = [c.source for c in jupytext.read(page).cells if c.cell_type == "markdown"]
    numbers = reader_notebook.equation_numbers(cells)
    wrong = [f"식 ({numbers[label]}){p} → 식 ({numbers[label]}){josa(f'식 ({numbers[label]})', PARTICLE_PAIR[p])}"
             for label, p in EQ_PARTICLE.findall(text)
             if label in numbers and josa(f"식 ({numbers[label]})", PARTICLE_PAIR[p]) != p]
    assert wrong == [], wrong
