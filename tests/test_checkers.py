"""The checker engine (dldna_helpers.checkers) and the checkers of the nine exercises.

* The engine on a small made-up exercise: statuses, the precision rule, slip hints, chains,
  choices, lists, units, bad declarations, the static and live views.
* Every exercise page's checker, taken from the executed notebook (the output the site shows):
  each field states its precision and the tolerance is exactly that rule (the right value rounded
  to it passes, one digit short does not, each slip rounded to it gets its own hint); the
  diagnoses the issue found wrong are fixed.
* The right values follow the solutions: they equal what the solution cells glued into the prose.
The shared table of typed inputs (tests/answer_table.py) runs in tests/test_answers.py and, in
Chromium, in tests/test_exercise_browser.py.
"""
from __future__ import annotations

import ast
import html
import json
import math
import re

import pytest

from answer_table import ROOT, notebook_outputs, one_digit_short, page_specs, rounded
from dldna_helpers.checkers import (
    check, checker, checker_html, checker_spec, choice, integer, number, precision_text, values,
)


# ---------------------------------------------------------------- the engine on a made-up exercise
def toy_fields():
    return [
        number("a", "a₁", 1.6, decimals=3, chain="c", slips=[(1.96, "감쇠"), (2.4, "부호")]),
        number("b", "b₁", 0.92, decimals=3, chain="c", slips=[(1.2, "순서")]),
        integer("n", "스텝", 35, units=["스텝"], slips=[(34, "하나 적음"), (36, "하나 많음")]),
        number("small", "작은 값", 2 ** -14.5, sig=3, slips=[(2 ** -15, "층을 하나 더")]),
        values("eig", "고윳값", [2.0, -2.0], exact=True, slips=[([1.0, -1.0], "2를 빠뜨림")]),
        choice("why", "이유", [("틀린 이유", False, "이것은 틀렸습니다."), ("맞는 이유", True, "이유 설명.")]),
    ]


@pytest.fixture
def spec():
    return checker_spec(toy_fields(), "장난감")


def test_right_answers_in_every_form_are_accepted(spec):
    res = check({"a": "8/5", "b": "0,92", "n": "35 스텝", "small": "4.32×10⁻⁵", "eig": "(-2, 2)", "why": "b"}, spec)
    assert res.all_correct and res.lines[-1].startswith("모두 맞았습니다")
    assert res.lines[-2] == "이유: 맞음 — 이유 설명."        # a right choice still explains itself
    assert check({"eig": "2,-2", "small": "2^-14.5"}, spec).status == dict.fromkeys(
        ["a", "b", "n", "small", "eig", "why"], "missing") | {"eig": "correct", "small": "correct"}


def test_the_tolerance_is_the_stated_precision(spec):
    """Half a unit in the last digit asked for: a correct rounding passes, one digit short does not."""
    small = next(f for f in spec["fields"] if f["key"] == "small")
    assert small["precision_text"] == "유효숫자 3자리" and "(유효숫자 3자리)" in small["prompt"]
    assert small["tol"] == pytest.approx(0.5e-7, rel=1e-6)
    assert check({"small": "4.32e-5"}, spec).status["small"] == "correct"
    res = check({"small": "4.3e-5"}, spec)
    assert res.status["small"] == "wrong" and "유효숫자 3자리까지" in res.hints["small"]
    assert "반올림" in check({"small": "4.31e-5"}, spec).hints["small"]
    assert "소수 셋째 자리까지" in next(f for f in spec["fields"] if f["key"] == "a")["prompt"]


def test_wrong_answers_get_the_slip_or_a_generic_hint(spec):
    res = check({"a": "1.96", "n": "34", "small": "3.05e-5", "eig": "1 -1", "why": "a"}, spec)
    assert res.hints == {"a": "감쇠", "b": None, "n": "하나 적음", "small": "층을 하나 더", "eig": "2를 빠뜨림",
                         "why": "이것은 틀렸습니다."}
    res = check({"a": "7", "n": "50", "small": "5.2e-5"}, spec)
    assert res.status["a"] == res.status["n"] == res.status["small"] == "wrong"
    assert res.hints["a"] == res.hints["n"] == res.hints["small"] == "다시 계산해 보세요."


def test_in_a_chain_later_errors_point_back_to_the_first(spec):
    res = check({"a": "2.4", "b": "1.2"}, spec)
    assert res.hints["a"] == "부호" and res.hints["b"] == "a₁의 오류가 이어진 결과일 수 있으니 a₁부터 고치세요."
    res = check({"a": "1.6", "b": "1.2"}, spec)     # the first right: b's own slip is named
    assert res.hints["b"] == "순서"


def test_bad_input_is_explained_not_judged(spec):
    res = check({"a": "1.6.0", "n": "35.5", "eig": "2,,-2", "small": "abc", "b": "0.9 - 0.1"}, spec)
    assert res.status == {"a": "invalid", "b": "invalid", "n": "invalid", "small": "invalid", "eig": "invalid",
                          "why": "missing"}
    assert "'1.6.0'" in res.hints["a"] and "정수" in res.hints["n"] and "'abc'" in res.hints["small"]
    assert "덧셈·뺄셈" in res.hints["b"]           # a spaced minus in a one-value field: say how to write it
    assert check({"a": "1,600"}, spec).hints["a"] == "다시 계산해 보세요."   # 1,600 is read as 1600
    assert check({"eig": "2"}, spec).hints["eig"].startswith("값 2개를")
    assert check({}, spec).lines[-1] == "답을 입력하거나 고른 뒤 '확인'을 누르세요."
    with pytest.raises(ValueError, match="unknown answer field"):
        check({"zzz": "1"}, spec)


def test_declarations_that_cannot_work_are_refused():
    with pytest.raises(ValueError, match="exactly one right"):
        choice("c", "c", [("x", True, ""), ("y", True, "")])
    with pytest.raises(ValueError, match="finite"):
        number("x", "x", math.nan, exact=True)
    with pytest.raises(ValueError, match="exactly one precision"):
        number("x", "x", 1.0)
    with pytest.raises(ValueError, match="exactly one precision"):
        number("x", "x", 1.0, sig=2, decimals=2)
    with pytest.raises(ValueError, match="no significant digits"):
        number("x", "x", 0.0, sig=2)
    with pytest.raises(ValueError, match="integer"):
        integer("n", "n", 3.5)
    with pytest.raises(ValueError, match="a slip must list"):
        values("v", "v", [1.0, 2.0], exact=True, slips=[([1.0], "짧음")])
    with pytest.raises(ValueError, match="unique HTML names"):
        checker_spec([number("x", "x", 1.0, exact=True), number("x", "y", 2.0, exact=True)])
    with pytest.raises(ValueError, match="HTML names"):
        checker_spec([number("1x", "x", 1.0, exact=True)])


def test_slips_the_precision_cannot_tell_apart_are_dropped_and_twins_merged():
    spec = checker_spec([number("x", "x", 0.25, decimals=2, slips=[(0.251, "같음"), (0.5, "가"), (0.5, "나")])])
    assert [(s["value"], s["hint"]) for s in spec["fields"][0]["slips"]] == [(0.5, "가 또는 나")]
    assert [precision_text(p) for p in ({"sig": 3}, {"decimals": 2}, {"exact": True}, {"exact": True, "integer": True})] \
        == ["유효숫자 3자리", "소수 둘째 자리", "정확한 값", "정수"]


def test_static_view_labels_each_input_with_its_visible_prompt(spec):
    page = checker_html(spec, form_id="toy")
    blob = re.search(r"<script type='application/json'>(.*?)</script>", page, re.S).group(1)
    assert json.loads(blob.replace("<\\/", "</")) == json.loads(json.dumps(spec, ensure_ascii=False))
    assert "innerHTML" not in page and "aria-label" not in page
    for f in spec["fields"]:
        if f["kind"] != "choice":
            assert (f"<label class='dldna-prompt' for='toy-{f['key']}'>{html.escape(f['prompt'])}</label>"
                    f"<input type='text' id='toy-{f['key']}' name='{f['key']}' maxlength='120'") in page
    assert page.count("type='radio' name='why'") == 2 and "<legend>이유</legend>" in page
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


# ---------------------------------------------------------------- the exercise pages' checkers
SPECS = page_specs()
TITLES = [f"문제 {n} 확인" for n in range(1, 10)]


def glued(page: str) -> dict[str, object]:
    """The values the solution cells glued into the prose (myst-nb's record format)."""
    found = {}
    for out in notebook_outputs(page):
        meta = out.get("metadata", {}).get("scrapbook")
        if meta:
            found[meta["name"]] = ast.literal_eval(out["data"][meta["mime_prefix"] + "text/plain"])
    return found


def field(title, key):
    return next(f for f in SPECS[title]["fields"] if f["key"] == key)


def test_every_exercise_has_one_checker_with_a_mechanism_question_from_2_on():
    assert sorted(SPECS) == sorted(TITLES)
    assert all(any(f["kind"] == "choice" for f in SPECS[t]["fields"]) for t in TITLES[1:])


@pytest.mark.parametrize("title", TITLES)
def test_each_field_passes_its_correct_rounding_and_names_each_slip(title):
    spec = SPECS[title]
    for f in spec["fields"]:
        if f["kind"] == "choice":
            for o in f["options"]:
                res = check({f["key"]: o["key"]}, spec)
                assert res.status[f["key"]] == ("correct" if o["correct"] else "wrong")
                assert len(res.hints[f["key"]]) > 15          # each option says why
            continue
        assert f["precision_text"] in f["prompt"]
        if f["kind"] == "values":
            typed = "; ".join(rounded(t["value"], f["precision"]) for t in f["items"])
            assert check({f["key"]: typed}, spec).all_correct or check({f["key"]: typed}, spec).status[f["key"]] == "correct"
            for s in f["slips"]:
                typed = "; ".join(rounded(t["value"], f["precision"]) for t in s["items"])
                assert check({f["key"]: typed}, spec).hints[f["key"]] == s["hint"]
            continue
        assert check({f["key"]: rounded(f["value"], f["precision"])}, spec).status[f["key"]] == "correct", f["key"]
        short = one_digit_short(f["value"], f["precision"])
        if short is not None and abs(float(short) - f["value"]) > f["tol"]:
            res = check({f["key"]: short}, spec)
            assert res.status[f["key"]] == "wrong", (f["key"], short)
        for s in f["slips"]:
            res = check({f["key"]: rounded(s["value"], f["precision"])}, spec)
            assert res.status[f["key"]] == "wrong" and res.hints[f["key"]] == s["hint"], (f["key"], s)


def test_exercise_2_axes_are_separate_chains():
    """A slip on the y axis is diagnosed as such, not as a consequence of an x error."""
    spec = SPECS["문제 2 확인"]
    assert {field("문제 2 확인", k)["chain"] for k in ("x1", "x2", "x3")} == {"x"}
    assert {field("문제 2 확인", k)["chain"] for k in ("y1", "y2", "y3")} == {"y"}
    y_slip = field("문제 2 확인", "y1")["slips"][0]
    res = check({"x1": "1.7", "y1": rounded(y_slip["value"], {"decimals": 4})}, spec)
    assert res.hints["y1"] == y_slip["hint"]


def test_exercise_3_the_measured_ratio_is_not_called_an_extra_layer_alone():
    """The solution's own measurement (this seed: 2⁻¹⁵ to three digits) is named as a measurement."""
    basic = glued("basic")
    measured = basic["ex3_xavier_ratio"]
    res = check({"ratio": measured}, SPECS["문제 3 확인"])
    assert res.status["ratio"] == "wrong" and "잰 값" in res.hints["ratio"]


def test_exercise_4_a_value_far_from_the_formula_gets_no_rounding_hint():
    spec = SPECS["문제 4 확인"]
    res = check({"noisy": "0.265"}, spec)      # the old page's measured table value, three digits
    assert res.status["noisy"] == "wrong" and "반올림" not in res.hints["noisy"] and "자릿수" not in res.hints["noisy"]
    assert check({"noisy": "1/√17"}, spec).status["noisy"] == "correct"


def test_right_values_are_the_solutions_glued_results():
    """A checker with typed-in answers would fail here as soon as a solution changes."""
    basic, applied, advanced = glued("basic"), glued("applied"), glued("advanced")
    for t in (1, 2, 3):
        assert field("문제 1 확인", f"w{t}")["value"] == pytest.approx(float(basic[f"ex1_w{t}"]))
        assert field("문제 1 확인", f"v{t}")["value"] == pytest.approx(float(basic[f"ex1_v{t}"]))
    assert field("문제 1 확인", "eff_lr")["value"] == pytest.approx(float(basic["ex1_eff_lr"]))
    fx, fy = float(basic["ex2_factor_x"]), float(basic["ex2_factor_y"])
    for step in (1, 2, 3):
        assert field("문제 2 확인", f"x{step}")["value"] == pytest.approx(2.0 * fx**step)
        assert field("문제 2 확인", f"y{step}")["value"] == pytest.approx(1.0 * fy**step)
    assert field("문제 2 확인", "steps")["value"] == int(basic["ex2_steps_0"].replace(",", ""))
    assert field("문제 2 확인", "eta_osc")["value"] == pytest.approx(float(basic["ex2_eta_osc"]))
    assert field("문제 2 확인", "eta_edge_mu")["value"] == pytest.approx(float(basic["ex2_edge"]))
    assert field("문제 2 확인", "steps_hb")["value"] == basic["ex2_steps_formula_HB"]
    assert f"{field('문제 3 확인', 'prelu')['value']:.3f}" == basic["ex3_prelu_gain"]
    assert f"{field('문제 4 확인', 'first')['value']:.3f}" == applied["ex4_first_uncorrected"]
    assert f"{field('문제 6 확인', 'x_star')['value']:.3f}" == applied["ex6_x_star"]
    assert field("문제 5 확인", "gain")["value"] == float(applied["ex5_plain_gain"].replace(",", ""))
    assert f"{field('문제 7 확인', 'flip_ratio')['value']:.3f}" == advanced["ex7_flip_formula"]
    assert field("문제 7 확인", "amsgrad_bytes")["value"] == float(advanced["ex7_amsgrad_bf16"])
    assert f"{field('문제 8 확인', 'level')['value']:.1f}" == advanced["ex8_level"]
    assert f"{field('문제 8 확인', 'mp_norm')['value']:.3f}" == advanced["ex8_mp_norm"]
    assert f"{field('문제 9 확인', 'lam_start')['value']:.0f}" == advanced["ex9_lam_start"]
    assert field("문제 9 확인", "escape_momentum")["value"] == advanced["ex9_escape_모멘텀"]
    assert f"{max(field('문제 9 확인', 'roots')['value']):.4f}" == advanced["ex9_root"]
    assert f"{field('문제 9 확인', 'drift03')['value']:.4f}" == advanced["ex9_drift03"]
    assert f"{field('문제 9 확인', 'beta2_c4')['value']:.2f}" == advanced["ex9_beta2_critical_c4"]


# ---------------------------------------------------------------- the review's items, on the real pages
def _examples(text: str) -> list[str]:
    """The answer-like examples in a sentence: runs of number characters (spaces and commas
    included, so '(1 + √3)' and '1,234' stay whole), split where a comma is followed by a space."""
    runs = re.findall(r"[0-9.√π(][0-9.,√^×⁻⁰¹²³⁴⁵⁶⁷⁸⁹%+\-/()eπln ]*", text)
    return [piece.strip(" .,") for run in runs for piece in re.split(r",\s+", run) if piece.strip(" .,")]


def _intro(page: str) -> str:
    """The first paragraph after the page title (what the page says about typing answers)."""
    text = (ROOT / "exercises" / f"{page}.md").read_text(encoding="utf-8")
    return text.split("\n# ", 1)[1].split("\n\n")[1]


def test_no_example_on_a_form_or_in_a_page_intro_is_an_answer():
    """The note on every form, the 'cannot read' messages and the pages' intros show how answers
    may be written; none of their examples may be (or round to) the answer of any field."""
    from dldna_helpers.answers import PARSE_MESSAGES, read

    texts = [next(iter(SPECS.values()))["messages"]["note"], PARSE_MESSAGES["invalid"],
             PARSE_MESSAGES["arith"], _intro("basic")]
    examples = [e for t in texts for e in _examples(t)]
    values_read = {e: read(e).values for e in examples}
    readable = {e: v[0] for e, v in values_read.items() if len(v) == 1}
    assert len(readable) >= 10, values_read          # the test reads the examples it means to check
    hits = []
    for title, spec in SPECS.items():
        for f in spec["fields"]:
            targets = f["items"] if f["kind"] == "values" else [f] if f["kind"] != "choice" else []
            for example, x in readable.items():
                for t in targets:
                    if abs(x - t["value"]) <= max(t["tol"], 5e-3 * abs(t["value"])):
                        hits.append((title, f["key"], example))
    assert hits == []


def test_every_step_field_takes_스텝_회_and_번():
    step_fields = [(t, f["key"], f["units"]) for t, spec in SPECS.items() for f in spec["fields"]
                   if "스텝" in f.get("units", [])]
    assert len(step_fields) >= 4
    assert all({"스텝", "회", "번"} <= set(units) for _, _, units in step_fields), step_fields


def test_a_right_choice_does_not_repeat_맞음():
    """The line already says '맞음 —'; the feedback goes on with the reason."""
    for spec in SPECS.values():
        for f in spec["fields"]:
            for o in f.get("options", []):
                assert not o["feedback"].startswith("맞습니다"), (f["key"], o["feedback"])


def test_no_page_field_merges_two_slips_into_one_hint():
    """checker_spec joins slips with the same value by '또는'; the pages word such cases themselves."""
    for title, spec in SPECS.items():
        for f in spec["fields"]:
            for slip in f.get("slips", []):
                assert " 또는 " not in slip["hint"], (title, f["key"], slip["hint"])


def test_prompts_do_not_give_the_formula_away():
    """Exercise 4 asks the mean step and exercise 1 the effective learning rate: the prompt names
    the quantity, not the formula."""
    assert "μ/√" not in field("문제 4 확인", "noisy")["prompt"]
    assert "η/(1 − μ)" not in field("문제 1 확인", "eff_lr")["prompt"]
