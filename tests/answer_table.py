"""ONE table of typed answers with the verdict each must get, for Python and for the page's JavaScript.

Two parts, both lists of rows ``(spec, field key, typed text, expected status, expected hint)``:

* :func:`grammar_rows`: what the answer grammar accepts and refuses (:mod:`dldna_helpers.answers`),
  on small made-up fields: every way of writing a right answer (decimals with . or ,, fractions, √,
  ^, ×10ⁿ with superscripts, e-notation, %, unit words, pairs, fillers such as '정도'), roundings
  at the stated precision, too few digits, slips, wrong units and garbage.
* :func:`exercise_rows`: every answer field of the nine exercises as the pages show them (the
  specs stored in the executed notebooks): the right value as typed in several forms, rounded to
  the stated precision (passes), one digit short where that can be told (too few digits), each
  declared slip rounded to the stated precision (its own hint), a wrong value and garbage.
* :data:`PAGE_FORMS`: the ways of writing answers a careful solver uses on the real page fields
  (``η > 0.25``, ``35회``, ``1/(1-0.8)``, ``(√2-1)^4``, ``16,384``, ``2√e``, ``0.5√(2ln1.2)``,
  ``1+√0.1, 1-√0.1`` …) with the verdict each must get.

``tests/test_answers.py`` checks every row with :func:`dldna_helpers.checkers.check`;
``tests/test_exercise_browser.py`` runs the same rows through the JavaScript of the exercise pages
in Chromium. The expected verdicts are written here (or follow from how a row was built: a correct
rounding must pass, a slip must get its hint), never computed by the engine under test.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

from dldna_helpers.checkers import checker_spec, choice, integer, number, values

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("basic", "applied", "advanced")

# ---------------------------------------------------------------- made-up fields for the grammar
GRAMMAR_SPEC = checker_spec([
    number("quarter", "q", 0.25, exact=True),
    number("half", "h", 0.5, exact=True),
    number("fifths", "f", 1.6, exact=True),
    number("root2", "r", math.sqrt(2), sig=3, slips=[(2.0, "제곱근을 빠뜨림")]),
    number("inv_root2", "i", 1 / math.sqrt(2), sig=3, slips=[(0.5, "분산의 배율")]),
    number("root10", "s", math.sqrt(10), sig=3),
    number("small", "m", 2 ** -14.5, sig=3, slips=[(2 ** -15, "하나 더 곱함"), (2 ** -29, "분산의 비율")]),
    number("ratio", "t", 1.3162, sig=3),
    number("power", "p", 4.0 ** 7, exact=True),
    number("pct", "c", 6.25, decimals=2, units=["%"]),
    number("frac_pct", "d", 0.0625, exact=True),
    integer("steps", "n", 35, units=["스텝", "회", "번"], slips=[(34, "하나 적음"), (36, "하나 많음")]),
    integer("bytes", "b", 8, units=["bytes", "byte", "B", "바이트"], slips=[(4, "하나만 셈")]),
    values("pair", "쌍", [1.0, 1.0], exact=True, ordered=True),
    values("eig", "고윳값", [2.0, -2.0], exact=True, slips=[([1.0, -1.0], "2를 빠뜨림")]),
    number("big", "g", 1600.0, exact=True),
    number("dec2", "e", 0.2425, decimals=2),
    choice("why", "이유", [("틀린 이유", False, "이것은 틀렸습니다."), ("맞는 이유", True, "이유 설명.")]),
], "문법 표")

OK, WRONG, INVALID, MISSING = "correct", "wrong", "invalid", "missing"
# (field, typed text, status, hint: None | a slip's hint | 'too_few' | 'rounding' | 'close' | 'parse:<code>' | 'count' | 'not_integer')
GRAMMAR: list[tuple[str, str, str, str | None]] = [
    # decimals with a point or a comma, signs, spaces and invisible characters
    ("quarter", "0.25", OK, None), ("quarter", "0,25", OK, None), ("quarter", ".25", OK, None),
    ("quarter", " 0.250 ", OK, None), ("quarter", "+0.25", OK, None), ("quarter", "０.２５", OK, None),
    ("quarter", "\ufeff0.25\u200b", OK, None), ("quarter", "0.25\x00", OK, None), ("quarter", "\u30000.25\u3000", OK, None),
    ("quarter", "\t0.25\n", OK, None), ("quarter", "2.5e-1", OK, None), ("quarter", "25E-2", OK, None),
    ("quarter", "25%", OK, None), ("quarter", "25 %", OK, None), ("quarter", "２５％", OK, None),
    ("quarter", "1/4", OK, None), ("quarter", "1 / 4", OK, None), ("quarter", "1÷4", OK, None),
    ("quarter", "2^-2", OK, None), ("quarter", "2⁻²", OK, None), ("quarter", "(1/2)^2", OK, None),
    ("quarter", "0.5²", OK, None), ("quarter", "q = 0.25", OK, None), ("quarter", "약 0.25", OK, None),
    ("quarter", "0.25 정도", OK, None), ("quarter", "0.25배", OK, None), ("quarter", "0.25입니다", OK, None),
    ("quarter", "1/4=0.25", OK, None), ("quarter", "~0.25", OK, None),
    ("quarter", "0.3", WRONG, "too_few"), ("quarter", "-0.25", WRONG, None), ("quarter", "0.26", WRONG, None),
    ("half", "1/2", OK, None), ("half", "½", OK, None), ("half", "0,5", OK, None), ("half", "50%", OK, None),
    ("half", "1/√4", OK, None), ("half", "√0.25", OK, None), ("half", "2^(-1)", OK, None), ("half", "5×10⁻¹", OK, None),
    ("fifths", "8/5", OK, None), ("fifths", "1.6", OK, None), ("fifths", "1,6", OK, None), ("fifths", "160%", OK, None),
    ("fifths", "16e-1", OK, None), ("fifths", "1.60", OK, None), ("fifths", "2", WRONG, "too_few"),
    ("root2", "√2", OK, None), ("root2", "sqrt(2)", OK, None), ("root2", "SQRT 2", OK, None), ("root2", "2^0.5", OK, None),
    ("root2", "2**0.5", OK, None), ("root2", "1.41", OK, None), ("root2", "1.414", OK, None), ("root2", "1,414", WRONG, None),
    ("root2", "1.4142", OK, None), ("root2", "2/√2", OK, None), ("root2", "√(2)", OK, None), ("root2", "(√2)", OK, None),
    ("root2", "1.4", WRONG, "too_few"), ("root2", "1.42", WRONG, "rounding"), ("root2", "1.40", WRONG, None),
    ("root2", "2", WRONG, "제곱근을 빠뜨림"), ("root2", "2.00", WRONG, "제곱근을 빠뜨림"), ("root2", "1.73", WRONG, None),
    ("inv_root2", "1/√2", OK, None), ("inv_root2", "√2/2", OK, None), ("inv_root2", "0.707", OK, None),
    ("inv_root2", "0,707", OK, None), ("inv_root2", "70.7%", OK, None), ("inv_root2", "2^-0.5", OK, None),
    ("inv_root2", "2^-1/2", WRONG, None), ("inv_root2", "0.71", WRONG, "too_few"), ("inv_root2", "0.7", WRONG, "too_few"),
    ("inv_root2", "0.708", WRONG, "rounding"), ("inv_root2", "0.5", WRONG, "분산의 배율"), ("inv_root2", "1/2", WRONG, "분산의 배율"),
    ("root10", "√10", OK, None), ("root10", "3.16", OK, None), ("root10", "10^0.5", OK, None), ("root10", "3.2", WRONG, "too_few"),
    ("small", "2^-14.5", OK, None), ("small", "2^(-14.5)", OK, None), ("small", "4.32×10⁻⁵", OK, None),
    ("small", "4.32x10^-5", OK, None), ("small", "4.32·10**-5", OK, None), ("small", "4.32e-5", OK, None),
    ("small", "4,32×10⁻⁵", OK, None), ("small", "4.316e-05", OK, None), ("small", "0.0000432", OK, None),
    ("small", "43.2×10⁻⁶", OK, None), ("small", "4.32 × 10 ^ -5", OK, None), ("small", "1/√2^29", OK, None),
    ("small", "4.3e-5", WRONG, "too_few"), ("small", "4.3×10⁻⁵", WRONG, "too_few"), ("small", "4.31e-5", WRONG, "rounding"),
    ("small", "3.05e-5", WRONG, "하나 더 곱함"), ("small", "2⁻¹⁵", WRONG, "하나 더 곱함"), ("small", "2^-29", WRONG, "분산의 비율"),
    ("small", "4.32", WRONG, None), ("small", "4.32×10⁵", WRONG, None), ("small", "4.32×10⁻", INVALID, "parse:invalid"),
    ("ratio", "1.32", OK, None), ("ratio", "1.316", OK, None), ("ratio", "1,32", OK, None), ("ratio", "1.3", WRONG, "too_few"),
    ("ratio", "1.31", WRONG, "rounding"), ("ratio", "1.33", WRONG, None), ("ratio", "1.35", WRONG, None),
    ("power", "4^7", OK, None), ("power", "16384", OK, None), ("power", "2^14", OK, None), ("power", "4⁷", OK, None),
    ("power", "16,384", OK, None), ("power", "1.6384e4", OK, None), ("power", "16 384", INVALID, "parse:several"),
    ("pct", "6.25%", OK, None), ("pct", "6.25", OK, None), ("pct", "6,25 %", OK, None), ("pct", "6.3%", WRONG, "too_few"),
    ("pct", "0.0625", WRONG, None),
    ("frac_pct", "6.25%", OK, None), ("frac_pct", "1/16", OK, None), ("frac_pct", "0.0625", OK, None), ("frac_pct", "4^-2", OK, None),
    ("steps", "35", OK, None), ("steps", "35스텝", OK, None), ("steps", "35 스텝", OK, None), ("steps", "35회", OK, None),
    ("steps", "35 번", OK, None), ("steps", "35번째", OK, None), ("steps", "35스텝입니다", OK, None), ("steps", "35.0", OK, None),
    ("steps", "t* = 35", OK, None), ("steps", "약 35회 정도", OK, None), ("steps", "34", WRONG, "하나 적음"), ("steps", "36회", WRONG, "하나 많음"),
    ("steps", "35.5", INVALID, "not_integer"), ("steps", "35 바이트", INVALID, "parse:unit"), ("steps", "35 km", INVALID, "parse:word"),
    ("steps", "35스텝 35", INVALID, "parse:several"), ("steps", "3 5", INVALID, "parse:several"), ("steps", "50", WRONG, None),
    ("bytes", "8", OK, None), ("bytes", "8 bytes", OK, None), ("bytes", "8B", OK, None), ("bytes", "8 byte", OK, None),
    ("bytes", "8바이트", OK, None), ("bytes", "8 Bytes", OK, None), ("bytes", "4 B", WRONG, "하나만 셈"), ("bytes", "8 스텝", INVALID, "parse:unit"),
    ("pair", "(1, 1)", OK, None), ("pair", "(1,1)", OK, None), ("pair", "1, 1", OK, None), ("pair", "1; 1", OK, None),
    ("pair", "1 1", OK, None), ("pair", "[1, 1]", OK, None), ("pair", "（１，１）", OK, None), ("pair", "(1.0, 1.00)", OK, None),
    ("pair", "(2/2, √1)", OK, None), ("pair", "1", WRONG, "count"), ("pair", "(1, 1, 1)", WRONG, "count"), ("pair", "(1, 2)", WRONG, None),
    ("pair", "(1, 1", INVALID, "parse:invalid"),
    ("eig", "2,-2", OK, None), ("eig", "2, -2", OK, None), ("eig", "-2; 2", OK, None), ("eig", "2 −2", OK, None),
    ("eig", "(−2, 2)", OK, None), ("eig", "±2", INVALID, "parse:invalid"), ("eig", "1, -1", WRONG, "2를 빠뜨림"),
    ("eig", "2, 2", WRONG, None), ("eig", "2", WRONG, "count"),
    ("big", "1600", OK, None), ("big", "1.6e3", OK, None), ("big", "1.6×10³", OK, None), ("big", "1,600", OK, None),
    ("big", "1,600.0", OK, None), ("big", "1,6,0,0", INVALID, "parse:comma"), ("big", "1.6.0", INVALID, "parse:invalid"),
    ("big", "1,600,5", INVALID, "parse:comma"), ("big", "0,001,6e6", INVALID, "parse:comma"), ("big", "1 600", INVALID, "parse:several"),
    ("power", "16,384.0", OK, None), ("power", "16,384배", OK, None), ("power", "약 16,384", OK, None),
    ("dec2", "0.24", OK, None), ("dec2", "0.2425", OK, None), ("dec2", "0,24", OK, None), ("dec2", "0.2", WRONG, "too_few"),
    ("dec2", "0.25", WRONG, "rounding"), ("dec2", "0.265", WRONG, None),
    # a name and a comparison before the answer: =, ≈, <, ≤, >, ≥
    ("quarter", "η > 0.25", OK, None), ("quarter", "η>1/4", OK, None), ("quarter", "η ≥ 0.25", OK, None),
    ("quarter", "η ≤ 1/4", OK, None), ("quarter", "η >", INVALID, "parse:invalid"), ("quarter", "0.25 <", INVALID, "parse:invalid"),
    # + and − inside parentheses or with no space before them; a spaced sign is a new value
    ("quarter", "1/(1+3)", OK, None), ("quarter", "1/(1 + 3)", OK, None), ("quarter", "0.5-0.25", OK, None),
    ("quarter", "0.5- 0.25", OK, None), ("quarter", "0.5 - 0.25", INVALID, "parse:arith"), ("quarter", "0.5 -0.25", INVALID, "parse:arith"),
    ("quarter", "(0.5 - 0.25)", OK, None), ("quarter", "-0.25+0.5", OK, None), ("quarter", "2(1-0.5)/4", OK, None),
    ("quarter", "2 (1-0.5)/4", OK, None), ("quarter", "0.5 √0.25", OK, None), ("quarter", "(2 ln 2)/ln 16^2", OK, None),
    ("eig", "2 √4", WRONG, None), ("eig", "(2 √4), -2", INVALID, "parse:invalid"), ("quarter", "0.5-", INVALID, "parse:invalid"),
    ("quarter", "(1+1)^-2", OK, None), ("quarter", "2^-2", OK, None), ("quarter", "2^(-1-1)", OK, None),
    ("root2", "(√2-1)+1", OK, None), ("root2", "3-√2", WRONG, None), ("root2", "√2+0", OK, None),
    ("eig", "2 -2", OK, None), ("eig", "2-2", WRONG, "count"), ("eig", "(1+1, -1-1)", OK, None), ("eig", "1+1; -(1+1)", OK, None),
    ("pair", "2-1, 2/2", OK, None), ("pair", "(2-1, 2-1)", OK, None),
    # e, π, ln, exp (log is ambiguous)
    ("root2", "√(e^ln2)", OK, None), ("root2", "exp(ln2/2)", OK, None), ("root2", "exp(0.5ln2)", OK, None),
    ("root2", "4/(2√2)", OK, None), ("root2", "√(2π/π)", OK, None), ("root2", "log 2", INVALID, "parse:log"),
    ("root2", "ln(-2)", INVALID, "parse:nonfinite"), ("root2", "ln 0", INVALID, "parse:nonfinite"), ("root2", "exp(999)", INVALID, "parse:nonfinite"),
    ("quarter", "e^(-ln4)", OK, None), ("quarter", "1/e", WRONG, None), ("quarter", "π/4", WRONG, None), ("quarter", "pi/(4π)", OK, None),
    ("quarter", "ln", INVALID, "parse:invalid"), ("quarter", "e", WRONG, None), ("quarter", "E", INVALID, "parse:invalid"), ("quarter", "0.25 E", INVALID, "parse:word"),
    # a value within 1% of the right one (an intermediate value rounded)
    ("small", "0.707^29", WRONG, "close"), ("small", "4.30e-5", WRONG, "close"), ("small", "4.25e-5", WRONG, None), ("quarter", "0.2501", WRONG, "close"),
    ("quarter", "0.2526", WRONG, None), ("root2", "1.4143", OK, None), ("root2", "1.41421*1.009", WRONG, "close"),
    # garbage, empty, limits
    ("quarter", "", MISSING, None), ("quarter", "   ", MISSING, None), ("quarter", "\u3000", MISSING, None),
    ("quarter", "abc", INVALID, "parse:invalid"), ("quarter", "영점이오", INVALID, "parse:invalid"), ("quarter", "inf", INVALID, "parse:invalid"),
    ("quarter", "NaN", INVALID, "parse:invalid"), ("quarter", "1e999", INVALID, "parse:nonfinite"), ("quarter", "1/0", INVALID, "parse:nonfinite"),
    ("quarter", "0x10", WRONG, None), ("quarter", "1_000", INVALID, "parse:invalid"), ("quarter", "١٢", INVALID, "parse:invalid"),
    ("quarter", "0.25.", INVALID, "parse:invalid"), ("quarter", "1/", INVALID, "parse:invalid"), ("quarter", "√", INVALID, "parse:invalid"),
    ("quarter", "√-4", INVALID, "parse:invalid"), ("quarter", "(-8)^(1/3)", INVALID, "parse:nonfinite"), ("quarter", "2^^2", INVALID, "parse:invalid"),
    ("quarter", "0.25 0.25", INVALID, "parse:several"), ("quarter", "0.25\n0.25", INVALID, "parse:several"), ("quarter", "0.25e", WRONG, None),
    ("quarter", "((((((((((((((1))))))))))))))", INVALID, "parse:deep"), ("quarter", "=", INVALID, "parse:invalid"),
    ("quarter", "1" + " " * 100_000 + "2", INVALID, "parse:too_long"), ("quarter", "(" * 100_000, INVALID, "parse:too_long"),
    ("quarter", "0." + "0" * 200 + "1", INVALID, "parse:too_long"), ("quarter", "<script>", INVALID, "parse:invalid"),
    ("why", "b", OK, "이유 설명."), ("why", "a", WRONG, "이것은 틀렸습니다."), ("why", "", MISSING, None),
]


def grammar_rows() -> list[tuple[dict, str, str, str, str | None]]:
    return [(GRAMMAR_SPEC, key, raw, status, hint) for key, raw, status, hint in GRAMMAR]


# ---------------------------------------------------------------- forms a solver writes, on the real fields
# (checker title, field key, typed text, status, hint: as in GRAMMAR, or 'slip' for one of the field's slips)
PAGE_FORMS: list[tuple[str, str, str, str, str | None]] = [
    ("문제 1 확인", "amplify", "1/(1-0.8)", OK, None), ("문제 1 확인", "amplify", "1/(1 − 0.8)", OK, None),
    ("문제 1 확인", "amplify", "5배", OK, None), ("문제 1 확인", "eff_lr", "0.1/(1-0.8)", OK, None),
    ("문제 1 확인", "eff_lr", "η/(1−μ) = 0.1/(1 - 0.8)", OK, None), ("문제 1 확인", "eff_lr", "0.1 / 1 - 0.8", INVALID, "parse:arith"),
    ("문제 1 확인", "eff_lr", "1/(1-0.8)", WRONG, None), ("문제 1 확인", "w3", "0.96-0.1·7.04", OK, None), ("문제 1 확인", "w3", "0.96 - 0.1·7.04", INVALID, "parse:arith"),
    ("문제 2 확인", "eta_osc", "η > 0.25", OK, None), ("문제 2 확인", "eta_osc", "η>1/4", OK, None),
    ("문제 2 확인", "eta_osc", "η ≥ 1/4", OK, None), ("문제 2 확인", "eta_osc", "1/λ_max = 1/4", OK, None),
    ("문제 2 확인", "eta_div", "η > 0.5", OK, None), ("문제 2 확인", "eta_div", "η>2/4", OK, None),
    ("문제 2 확인", "eta_edge_mu", "2(1+0.5)/4", OK, None), ("문제 2 확인", "eta_edge_mu", "η < 2(1 + 0.5)/4", OK, None),
    ("문제 2 확인", "eta_edge_mu", "2·(1+0.5)/4", OK, None), ("문제 2 확인", "eta_edge_mu", "2(1-0.5)/4", WRONG, "slip"),
    ("문제 2 확인", "mu_star", "(√2-1)^4", OK, None), ("문제 2 확인", "mu_star", "17-12√2", OK, None),
    ("문제 2 확인", "mu_star", "((√2-1)/(√2+1))^2", OK, None), ("문제 2 확인", "mu_star", "(√2 - 1)^4", OK, None),
    ("문제 2 확인", "mu_star", "(√2-1)/(√2+1)", WRONG, "slip"), ("문제 2 확인", "mu_star", "17 - 12√2", INVALID, "parse:arith"),
    ("문제 2 확인", "steps", "35회", OK, None), ("문제 2 확인", "steps", "35번", OK, None), ("문제 2 확인", "steps", "35 스텝", OK, None),
    ("문제 2 확인", "steps", "36회", WRONG, "slip"), ("문제 2 확인", "steps", "34번", WRONG, "slip"),
    ("문제 2 확인", "steps_gd", "691회", OK, None), ("문제 2 확인", "steps_gd", "690", WRONG, "slip"),
    ("문제 2 확인", "steps_hb", "69번", OK, None), ("문제 2 확인", "steps_hb", "68", WRONG, "slip"),
    ("문제 2 확인", "steps_hb", "93스텝", WRONG, "slip"),
    ("문제 3 확인", "ratio", "0.707^29", WRONG, "close"), ("문제 3 확인", "ratio", "(1/√2)^29", OK, None),
    ("문제 3 확인", "ratio", "2^-14.5", OK, None), ("문제 3 확인", "ratio", "2^(-29/2)", OK, None),
    ("문제 3 확인", "prelu", "√(32/17)", OK, None), ("문제 3 확인", "prelu", "√(2/(1+0.25²))", OK, None),
    ("문제 3 확인", "prelu", "√(2/(1 + 0.25^2))", OK, None), ("문제 3 확인", "factor", "1/√2", OK, None),
    ("문제 4 확인", "noisy", "1/√17", OK, None), ("문제 4 확인", "noisy", "1/√(1+16)", OK, None),
    ("문제 4 확인", "noisy", "1/√(1 + 4²)", OK, None), ("문제 4 확인", "first", "0.1/√0.001", OK, None),
    ("문제 4 확인", "first", "(1-0.9)/√(1-0.999)", OK, None),
    ("문제 5 확인", "gain", "16,384", OK, None), ("문제 5 확인", "gain", "16,384배", OK, None),
    ("문제 5 확인", "gain", "4^7", OK, None), ("문제 5 확인", "gain", "4⁷ = 16,384", OK, None),
    ("문제 5 확인", "gain", "4,096", WRONG, "slip"), ("문제 5 확인", "lr_fix", "4²", OK, None), ("문제 5 확인", "lr_fix", "16배", OK, None),
    ("문제 6 확인", "cycle_upper", "2√e", OK, None), ("문제 6 확인", "cycle_upper", "2e^0.5", OK, None),
    ("문제 6 확인", "cycle_upper", "2exp(1/2)", OK, None), ("문제 6 확인", "cycle_upper", "ηλ < 2√e", OK, None),
    ("문제 6 확인", "cycle_upper", "2e", WRONG, "slip"), ("문제 6 확인", "cycle_upper", "2 log e", INVALID, "parse:log"),
    ("문제 6 확인", "x_star", "0.5√(2ln1.2)", OK, None), ("문제 6 확인", "x_star", "0.5*sqrt(2*ln(1.2))", OK, None),
    ("문제 6 확인", "x_star", "x* = 0.5√(2 ln 1.2)", OK, None), ("문제 6 확인", "x_star", "0.5√(ln1.2)", WRONG, "slip"),
    ("문제 6 확인", "limit", "2(0.5)²/1", OK, None), ("문제 6 확인", "floor", "2·0.1/(2·4·(2-0.1))", OK, None),
    ("문제 7 확인", "flip_ratio", "1/√(0.16+0.84·0.1/1.9)", OK, None), ("문제 7 확인", "flip_ratio", "1/(1-0.6)", WRONG, "slip"),
    ("문제 7 확인", "amsgrad_bytes", "6 bytes", OK, None), ("문제 7 확인", "amsgrad_bytes", "6B", OK, None),
    ("문제 7 확인", "amsgrad_bytes", "3·2바이트", OK, None), ("문제 7 확인", "amsgrad_bytes", "12바이트", WRONG, "slip"),
    ("문제 8 확인", "level", "98.3%", OK, None), ("문제 8 확인", "level", "(1-0.05/3)·100%", OK, None),
    ("문제 8 확인", "level", "100 - 5/3", INVALID, "parse:arith"), ("문제 8 확인", "level", "100-5/3", OK, None),
    ("문제 8 확인", "level", "0.983", WRONG, "slip"), ("문제 8 확인", "level", "95%", WRONG, "slip"),
    ("문제 9 확인", "roots", "1+√0.1, 1-√0.1", OK, None), ("문제 9 확인", "roots", "1.32; 0.684", OK, None),
    ("문제 9 확인", "roots", "(1-√0.1, 1+√0.1)", OK, None), ("문제 9 확인", "roots", "1.32 0.684", OK, None),
    ("문제 9 확인", "roots", "1 ± √0.1", INVALID, "parse:invalid"), ("문제 9 확인", "roots", "1+√0.1", WRONG, "count"),
    ("문제 9 확인", "escape_momentum", "36회", OK, None), ("문제 9 확인", "escape_momentum", "36번", OK, None),
    ("문제 9 확인", "escape_momentum", "35", WRONG, "slip"), ("문제 9 확인", "drift03", "+0.0263", OK, None),
]


def page_form_rows(specs: dict[str, dict] | None = None) -> list[tuple[dict, str, str, str, str | None]]:
    """:data:`PAGE_FORMS` on the fields of the executed pages."""
    specs = page_specs() if specs is None else specs
    return [(specs[title], key, raw, status, hint) for title, key, raw, status, hint in PAGE_FORMS]


# ---------------------------------------------------------------- the exercise pages' fields
def notebook_outputs(page: str):
    nb = json.loads((ROOT / "exercises" / f"{page}.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        yield from cell.get("outputs", [])


def page_specs() -> dict[str, dict]:
    """Title → spec of every checker on the three exercise pages, as executed (what the site shows)."""
    specs = {}
    for page in PAGES:
        for out in notebook_outputs(page):
            text = "".join(out.get("data", {}).get("text/html", ""))
            if "dldna-checker" in text:
                blob = re.search(r"<script type='application/json'>(.*?)</script>", text, re.S).group(1)
                spec = json.loads(blob.replace("<\\/", "</"))
                specs[spec["title"]] = spec
    return specs


def rounded(value: float, precision: dict) -> str:
    """``value`` written as a careful reader would at the stated precision."""
    if "sig" in precision:
        k = precision["sig"]
        return f"{value:.{k - 1}e}" if value != 0 and not 1e-3 <= abs(value) < 1e5 else _sig_plain(value, k)
    if "decimals" in precision:
        return f"{value:.{precision['decimals']}f}"
    return repr(int(value)) if float(value).is_integer() else repr(value)


def _sig_plain(value: float, k: int) -> str:
    e = math.floor(math.log10(abs(value)))
    return f"{value:.{max(k - 1 - e, 0)}f}"


def one_digit_short(value: float, precision: dict) -> str | None:
    """The right value with one significant digit fewer than asked (None when that is < 1 digit)."""
    if "sig" in precision and precision["sig"] >= 2:
        return _sig_plain(value, precision["sig"] - 1) if 1e-3 <= abs(value) < 1e5 else f"{value:.{precision['sig'] - 2}e}"
    if "decimals" in precision and precision["decimals"] >= 2:
        short = f"{value:.{precision['decimals'] - 1}f}"
        return short if float(short) != 0 else None
    return None


def exercise_rows(specs: dict[str, dict] | None = None) -> list[tuple[dict, str, str, str, str | None]]:
    """Rows built from every field of the exercise pages (see the module doc)."""
    specs = page_specs() if specs is None else specs
    rows = []
    for title in sorted(specs):
        spec = specs[title]
        for f in spec["fields"]:
            k = f["key"]
            if f["kind"] == "choice":
                for o in f["options"]:
                    rows.append((spec, k, o["key"], OK if o["correct"] else WRONG, o["feedback"]))
                continue
            if f["kind"] == "values":
                items = [t["value"] for t in f["items"]]
                rows.append((spec, k, "; ".join(rounded(v, f["precision"]) for v in items), OK, None))
                if not f["ordered"]:
                    rows.append((spec, k, "(" + ", ".join(repr(v) for v in reversed(items)) + ")", OK, None))
                for s in f["slips"]:
                    rows.append((spec, k, "; ".join(rounded(t["value"], f["precision"]) for t in s["items"]), WRONG, s["hint"]))
                rows.append((spec, k, "; ".join(repr(v * 1.37 + 0.7) for v in items), WRONG, f["hint"]))
                rows.append((spec, k, "모름", INVALID, "parse:invalid"))
                continue
            v, unit = f["value"], (f["units"][0] if f["units"] else "")
            rows.append((spec, k, repr(v), OK, None))
            rows.append((spec, k, rounded(v, f["precision"]), OK, None))
            if unit:
                rows.append((spec, k, rounded(v, f["precision"]) + " " + unit, OK, None))
            short = one_digit_short(v, f["precision"])
            if (short is not None and abs(float(short) - v) > f["tol"]
                    and not any(abs(float(short) - s["value"]) <= s["tol"] for s in f["slips"])):
                rows.append((spec, k, short, WRONG, "too_few"))
            for s in f["slips"]:
                rows.append((spec, k, rounded(s["value"], f["precision"]), WRONG, s["hint"]))
            wrong = round(v * 1.37 + 7) if f["kind"] == "integer" else v * 1.37 + 7
            rows.append((spec, k, repr(wrong), WRONG, f["hint"]))
            rows.append((spec, k, "영점", INVALID, "parse:invalid"))
    return rows


# ---------------------------------------------------------------- judging a verdict against a row
def _template(text: str) -> re.Pattern:
    """A message template as a pattern: each {placeholder} matches anything."""
    parts = re.split(r"\{\w+\}", text)
    return re.compile(".*".join(re.escape(p) for p in parts), re.S)


def verdict_matches(spec: dict, key: str, status: str, hint: str | None,
                    expected_status: str, expected_hint: str | None) -> bool:
    """True when ``(status, hint)`` is the verdict the row expects (see :data:`GRAMMAR`)."""
    from dldna_helpers.answers import PARSE_MESSAGES

    if status != expected_status:
        return False
    field = next(f for f in spec["fields"] if f["key"] == key)
    msg = spec["messages"]
    if status == "missing":
        return hint is None
    if status == "correct":
        return hint is None if field["kind"] != "choice" else hint == expected_hint
    if expected_hint is None:
        return hint == field["hint"]
    if expected_hint == "too_few":
        return hint in (msg["too_few"].format(precision=field.get("precision_text")), msg["too_few_exact"])
    if expected_hint == "slip":
        return hint in [s["hint"] for s in field["slips"]]
    if expected_hint == "close":
        return hint in (msg["close"].format(precision=field.get("precision_text")), msg["close_exact"])
    if expected_hint == "rounding":
        return hint == msg["rounding"].format(precision=field.get("precision_text"))
    if expected_hint == "count":
        return hint is not None and _template(msg["count"]).fullmatch(hint) is not None
    if expected_hint == "not_integer":
        return hint is not None and _template(msg["not_integer"]).fullmatch(hint) is not None
    if expected_hint.startswith("parse:"):
        return hint is not None and _template(PARSE_MESSAGES[expected_hint[6:]]).fullmatch(hint) is not None
    return hint == expected_hint


def all_rows() -> list[tuple[dict, str, str, str, str | None]]:
    """The whole table: the grammar rows, the solver's forms on the real fields, and the rows of
    every exercise field."""
    return grammar_rows() + page_form_rows() + exercise_rows()
