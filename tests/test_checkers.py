"""The general exercise checker (dldna_helpers.checkers) and the checkers of exercises 2–9.

* Reading typed text: one table of tricky inputs (:data:`TRICKY`), also run in Chromium by
  tests/test_exercise_browser.py, where the JavaScript must read every entry the same way.
* The engine on a small made-up exercise: statuses, slip hints, chains, choices, lists, units.
* Every exercise page's checker, taken from the executed notebook (the output the site shows):
  it accepts the right answers, rejects a wrong one with a hint, and names each declared slip.
* The right values follow the solution: they equal what the solution cells glued into the prose.
"""
from __future__ import annotations

import ast
import html
import json
import math
import re
from pathlib import Path

import pytest

from dldna_helpers.checkers import check, checker, checker_html, checker_spec, choice, integer, number, sci, values
from dldna_helpers.widgets import PARSE_MESSAGES, clean_text, diagnose, read_number

ROOT = Path(__file__).resolve().parents[1]

# (typed text, value it reads as, or the code of the message that explains why not)
TRICKY: list[tuple[str, float | None, str | None]] = [
    ("1.6", 1.6, None), (" 1,6 ", 1.6, None), ("0,125", 0.125, None), ("12,5", 12.5, None),
    ("1,6000", 1.6, None), ("１.６", 1.6, None), ("１，６", 1.6, None), ("－０.２５", -0.25, None),
    ("−0.25", -0.25, None), ("\ufeff1.6", 1.6, None), ("1.6\x00", 1.6, None), ("1.6\x1f", 1.6, None),
    ("1.6\x7f", 1.6, None), ("\u200b1.6\u200b", 1.6, None), ("\u30001.6\u3000", 1.6, None), ("\t+.5 ", 0.5, None),
    ("1e-3", 1e-3, None), ("５e－３", 5e-3, None), ("1E3", 1000.0, None),
    ("", None, None), ("   ", None, None), ("\ufeff", None, None), ("\u3000", None, None),
    ("1,600", None, "ambiguous"), ("-2,500", None, "ambiguous"), ("1,600.5", None, "comma"),
    ("1,000,000", None, "comma"), ("1.6,", None, "comma"),
    ("abc", None, "invalid"), ("1.6.2", None, "invalid"), ("inf", None, "invalid"), ("NaN", None, "invalid"),
    ("1e999", None, "invalid"), ("0x10", None, "invalid"), ("1_000", None, "invalid"), ("1 600", None, "invalid"),
    ("١٢", None, "invalid"), ("3²", None, "invalid"), ("10⁻³", None, "invalid"), ("½", None, "invalid"),
    ("1.6\n2", None, "invalid"), ("1.6%", None, "invalid"), ("영점구", None, "invalid"),
]


@pytest.mark.parametrize("raw, value, code", TRICKY)
def test_tricky_inputs_read_as_documented(raw, value, code):
    assert read_number(raw) == (value, code)


def test_a_decimal_comma_is_never_read_as_a_thousands_separator_silently():
    for raw in ("1,600", "9,999", "+1,000"):
        value, code = read_number(raw)
        assert value is None and code == "ambiguous"
        assert "모호" in PARSE_MESSAGES[code].format(raw=clean_text(raw))


def test_momentum_checker_reads_like_the_general_one():
    fb = diagnose({"w1": "１.６", "w2": "1,600"})
    assert fb.status["w1"] == "correct" and fb.status["w2"] == "invalid" and "모호" in fb.hint
    fb = diagnose({"w1": "\ufeff1.6\x00"})
    assert fb.status["w1"] == "correct"


# ---------------------------------------------------------------- the engine on a made-up exercise
def toy_fields():
    return [
        number("a", "a₁", 1.6, chain="c", slips=[(1.96, "감쇠"), (2.4, "부호")]),
        number("b", "b₁", 0.92, chain="c", slips=[(1.2, "순서")]),
        integer("n", "스텝 수", 35, units=["스텝"], slips=[(34, "하나 적음"), (36, "하나 많음")]),
        number("small", "작은 값", 4.3e-5, rel=0.01, slips=[(3.05e-5, "층을 하나 더")]),
        values("eig", "고윳값", [2.0, -2.0], slips=[([1.0, -1.0], "2를 빠뜨림")]),
        choice("why", "이유", [("틀린 이유", False, "이것은 틀렸습니다."), ("맞는 이유", True, "이유 설명.")]),
    ]


@pytest.fixture
def spec():
    return checker_spec(toy_fields(), "장난감")


def test_right_answers_in_every_form_are_accepted(spec):
    res = check({"a": "1,6", "b": "0.92", "n": "35 스텝", "small": "4.31e-5", "eig": "-2; 2", "why": "b"}, spec)
    assert res.all_correct and res.lines[-1].startswith("모두 맞았습니다")
    assert res.lines[-2] == "이유: 맞음 — 이유 설명."        # a right choice still explains itself
    assert check({"eig": "2, -2"}, spec).status["eig"] == "correct"   # ', ' separates items too


def test_wrong_answers_get_the_slip_or_a_generic_hint(spec):
    res = check({"a": "1.96", "n": "34", "small": "3.05e-5", "eig": "1 -1", "why": "a"}, spec)
    assert res.hints == {"a": "감쇠", "b": None, "n": "하나 적음", "small": "층을 하나 더", "eig": "2를 빠뜨림",
                         "why": "이것은 틀렸습니다."}
    res = check({"a": "7", "n": "50", "small": "4.0e-5"}, spec)
    assert res.status["a"] == res.status["n"] == res.status["small"] == "wrong"
    assert res.hints["a"] == res.hints["n"] == "다시 계산해 보세요." and "거의 맞았습니다" in res.hints["small"]


def test_in_a_chain_later_errors_point_back_to_the_first(spec):
    res = check({"a": "2.4", "b": "1.2"}, spec)
    assert res.hints["a"] == "부호" and res.hints["b"] == "a₁의 오류가 이어진 결과일 수 있으니 a₁부터 고치세요."
    res = check({"a": "1.6", "b": "1.2"}, spec)     # the first right: b's own slip is named
    assert res.hints["b"] == "순서"


def test_bad_input_is_explained_not_judged(spec):
    res = check({"a": "1,600", "n": "35.5", "eig": "2,-2", "small": "abc"}, spec)
    assert res.status == {"a": "invalid", "b": "missing", "n": "invalid", "small": "invalid", "eig": "invalid",
                          "why": "missing"}
    assert "모호" in res.hints["a"] and "정수" in res.hints["n"] and "'abc'" in res.hints["small"]
    assert check({"eig": "2"}, spec).hints["eig"].startswith("값 2개를")
    assert check({}, spec).lines[-1] == "답을 입력하거나 고른 뒤 '확인'을 누르세요."
    with pytest.raises(ValueError, match="unknown answer field"):
        check({"zzz": "1"}, spec)


def test_declarations_that_cannot_work_are_refused():
    with pytest.raises(ValueError, match="exactly one right"):
        choice("c", "c", [("x", True, ""), ("y", True, "")])
    with pytest.raises(ValueError, match="finite"):
        number("x", "x", math.nan)
    with pytest.raises(ValueError, match="integer"):
        integer("n", "n", 3.5)
    with pytest.raises(ValueError, match="unique HTML names"):
        checker_spec([number("x", "x", 1.0), number("x", "y", 2.0)])
    with pytest.raises(ValueError, match="HTML names"):
        checker_spec([number("1x", "x", 1.0)])


def test_slips_equal_to_the_answer_are_dropped_and_twins_merged():
    spec = checker_spec([number("x", "x", 0.25, slips=[(0.25, "같음"), (0.5, "가"), (0.5, "나")])])
    assert spec["fields"][0]["slips"] == [{"value": 0.5, "hint": "가 또는 나"}]


def test_static_view_embeds_spec_and_writes_feedback_as_text(spec):
    page = checker_html(spec, form_id="toy")
    blob = re.search(r"<script type='application/json'>(.*?)</script>", page, re.S).group(1)
    assert json.loads(blob.replace("<\\/", "</")) == json.loads(json.dumps(spec, ensure_ascii=False))
    assert "innerHTML" not in page and "textContent = line" in page
    assert page.count("type='radio' name='why'") == 2
    with pytest.raises(ValueError, match="form_id"):
        checker_html(spec, form_id="bad id")


def test_text_in_fields_cannot_inject_markup():
    spec = checker_spec([choice("c", "<b>", [("<script>x</script>", True, "</script><i>"), ("b", False, "")])])
    page = checker_html(spec, form_id="inj")
    assert "<script>x</script>" not in page and "</script><i>" not in page


def test_live_view_calls_the_same_check():
    import ipywidgets as w

    fields = toy_fields()
    out = checker(fields, title="장난감", live=True)
    widgets = out.widget.children
    boxes = [c for c in widgets if isinstance(c, (w.Text, w.RadioButtons))]
    assert len(boxes) == len(fields)
    boxes[0].value, boxes[2].value, boxes[-1].value = "1.96", "36", "a"
    next(c for c in widgets if isinstance(c, w.Button)).click()
    expected = check({"a": "1.96", "n": "36", "why": "a"}, checker_spec(fields, "장난감"))
    shown = re.findall(r">([^<>]*)</(?:span|b)>", widgets[-1].value)
    assert [html.unescape(s) for s in shown] == expected.lines


def test_numbers_in_feedback_avoid_e_notation():
    assert [sci(x) for x in (0.0, 3.2e-6, 1e-4, 0.5, 223.06, 16384, -2e-7)] == \
        ["0", "3.2×10⁻⁶", "1×10⁻⁴", "0.5", "220", "1.6×10⁴", "−2×10⁻⁷"]
    assert from_sci(sci(4.3158e-5, 3)) == pytest.approx(4.32e-5) and from_sci("0.25") == 0.25


# ---------------------------------------------------------------- the exercise pages' checkers
def notebook_outputs(page: str):
    nb = json.loads((ROOT / "exercises" / f"{page}.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        yield from cell.get("outputs", [])


def page_specs() -> dict[str, dict]:
    """Title → spec of every general checker on the three exercise pages, as executed."""
    specs = {}
    for page in ("basic", "applied", "advanced"):
        for out in notebook_outputs(page):
            text = "".join(out.get("data", {}).get("text/html", ""))
            if "dldna-checker" in text and "dldna-check-" in text:
                blob = re.search(r"<script type='application/json'>(.*?)</script>", text, re.S).group(1)
                spec = json.loads(blob.replace("<\\/", "</"))
                specs[spec["title"]] = spec
    return specs


def glued(page: str) -> dict[str, object]:
    """The values the solution cells glued into the prose (myst-nb's record format)."""
    found = {}
    for out in notebook_outputs(page):
        meta = out.get("metadata", {}).get("scrapbook")
        if meta:
            found[meta["name"]] = ast.literal_eval(out["data"][meta["mime_prefix"] + "text/plain"])
    return found


SPECS = page_specs()
TITLES = [f"문제 {n} 확인" for n in range(2, 10)]


def right_answers(spec):
    answers = {}
    for f in spec["fields"]:
        if f["kind"] == "choice":
            answers[f["key"]] = next(o["key"] for o in f["options"] if o["correct"])
        elif f["kind"] == "values":
            answers[f["key"]] = "; ".join(repr(v) for v in reversed(f["value"]))
        else:
            answers[f["key"]] = repr(f["value"])
    return answers


def test_every_exercise_from_2_to_9_has_a_checker():
    assert sorted(SPECS) == sorted(TITLES)
    assert all(any(f["kind"] == "choice" for f in SPECS[t]["fields"]) for t in TITLES)   # a mechanism question each


@pytest.mark.parametrize("title", TITLES)
def test_exercise_checker_accepts_rejects_and_diagnoses(title):
    spec = SPECS[title]
    assert check(right_answers(spec), spec).all_correct
    n_slips = 0
    for f in spec["fields"]:
        if f["kind"] == "choice":
            for o in f["options"]:
                res = check({f["key"]: o["key"]}, spec)
                assert res.status[f["key"]] == ("correct" if o["correct"] else "wrong")
                assert len(res.hints[f["key"]]) > 15          # each option says why
            continue
        wrong = [v * 1.37 + 0.7 for v in f["value"]] if f["kind"] == "values" else f["value"] * 1.37 + 7
        raw = "; ".join(map(repr, wrong)) if f["kind"] == "values" else repr(round(wrong) if f["kind"] == "integer" else wrong)
        res = check({f["key"]: raw}, spec)
        assert res.status[f["key"]] == "wrong" and res.hints[f["key"]]
        for s in f["slips"]:
            raw = "; ".join(map(repr, s["value"])) if f["kind"] == "values" else repr(s["value"])
            if f["kind"] == "integer":
                raw = str(int(s["value"]))
            assert check({f["key"]: raw}, spec).hints[f["key"]] == s["hint"]
            n_slips += 1
    assert n_slips >= 1


def field(title, key):
    return next(f for f in SPECS[title]["fields"] if f["key"] == key)


def from_sci(text: str) -> float:
    """Read back :func:`sci`'s notation (4.32×10⁻⁵)."""
    mantissa, _, exponent = text.replace("−", "-").partition("×10")
    return float(mantissa) * 10.0 ** int(exponent.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")) or 0)


def test_right_values_are_the_solutions_glued_results():
    """A checker with typed-in answers would fail here as soon as a solution changes."""
    basic, applied, advanced = glued("basic"), glued("applied"), glued("advanced")
    t = "문제 2 확인"
    fx, fy = float(basic["ex2_factor_x"]), float(basic["ex2_factor_y"])
    for step in (1, 2, 3):
        assert field(t, f"x{step}")["value"] == pytest.approx(2.0 * fx**step)
        assert field(t, f"y{step}")["value"] == pytest.approx(1.0 * fy**step)
    assert field(t, "steps")["value"] == int(basic["ex2_steps_0"].replace(",", ""))
    assert field(t, "eta_osc")["value"] == pytest.approx(float(basic["ex2_eta_osc"]))
    assert field(t, "eta_div")["value"] == pytest.approx(float(basic["ex2_eta_div"]))
    assert field("문제 3 확인", "ratio")["value"] == pytest.approx(from_sci(basic["ex3_xavier_pred"]), rel=0.01)
    assert field("문제 4 확인", "first")["value"] == pytest.approx(float(applied["ex4_first_uncorrected"]), abs=0.005)
    assert field("문제 5 확인", "grad")["value"] == pytest.approx(float(applied["ex5_grad_ratio"]), abs=1e-4)
    assert field("문제 7 확인", "norm")["value"] == pytest.approx(float(advanced["ex7_lion_pred"]), abs=1e-4)
    assert field("문제 7 확인", "adam_bytes")["value"] == float(advanced["ex7_bytes_Adam"])
    assert field("문제 8 확인", "orthogonal")["value"][0] == pytest.approx(float(advanced["ex8_orth_cond"]), abs=0.005)
    assert field("문제 9 확인", "lam_start")["value"] == pytest.approx(float(advanced["ex9_lam_start"]), abs=0.5)
    assert field("문제 9 확인", "escape")["value"] == advanced["ex9_escape_pred"]
    assert field("문제 9 확인", "root")["value"] == pytest.approx(float(advanced["ex9_root"]), abs=5e-4)


def test_exercise_1_checker_matches_its_solution_table():
    basic = glued("basic")
    spec = next(json.loads(re.search(r"<script type='application/json'>(.*?)</script>", h, re.S).group(1).replace("<\\/", "</"))
                for h in ("".join(o.get("data", {}).get("text/html", "")) for o in notebook_outputs("basic"))
                if "dldna-momentum-" in h)
    for f in spec["fields"]:
        assert f"{f['value']:.4g}" == basic[f"ex1_{f['key']}"]
