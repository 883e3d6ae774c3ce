"""Sentences about results that stay true of the results: Korean phrases from estimates
*with* their uncertainty, particles that fit any glued value, and claim checks.

A page never writes "A가 B보다 낫다" by hand. It either lets :func:`compare` word the
comparison from the difference and its 95% interval (the chapter's one rule, :mod:`.stats`; a
difference whose interval holds 0 is said to be undecided, not interpreted), or states the claim
in prose and guards it with :func:`check_claim`, which stops the build when the numbers
contradict it.
"""
from __future__ import annotations

import math
import os
import re
import statistics
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from .stats import LEVEL, Difference, paired_difference

__all__ = [
    "Estimate", "binomial_se", "mean_se", "has_final_consonant", "josa", "with_josa",
    "format_number", "sci", "significant", "compare", "run_difference", "error_estimate", "format_estimate", "format_mean_std",
    "ClaimError", "check_claim", "claims_are_strict", "spread",
]

# Pairs written "with final consonant / without": the first form follows a syllable with a 받침.
_PAIRS = {
    "이/가": ("이", "가"), "은/는": ("은", "는"), "을/를": ("을", "를"), "과/와": ("과", "와"),
    "이다/다": ("이다", "다"), "이었/였": ("이었", "였"), "아/야": ("아", "야"), "이나/나": ("이나", "나"),
}
_EURO = "으로/로"  # the one pair where a final ㄹ behaves like no 받침

# How the last digit of a number is read (Sino-Korean): (has 받침, 받침 is ㄹ)
_DIGIT = {"0": (True, False), "1": (True, True), "2": (False, False), "3": (True, False),
          "4": (False, False), "5": (False, False), "6": (True, False), "7": (True, True),
          "8": (True, True), "9": (False, False)}
# Trailing zeros of an integer name a unit: 십, 백, 천, 만 ... (만 again up to 억)
_ZEROS = {1: (True, False), 2: (True, False), 3: (True, False)}
_UNIT_READINGS = {"%p": "퍼센트포인트", "%": "퍼센트", "×": "배", "배": "배"}
_LETTER_FINAL = {"L": (True, True), "M": (True, False), "N": (True, False), "R": (True, True)}
# A final consonant letter as Korean writes loanwords: l, m, n (and -ng) close the syllable, so do
# p, k, t after a vowel (프롭, 팩); b, d, g mostly get a vowel of their own (그래드, 가이드): no 받침.
_LOWER_FINAL = {"l": (True, True), "m": (True, False), "n": (True, False),
                "p": (True, False), "k": (True, False), "t": (True, False)}
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _final(text: str) -> tuple[bool, bool]:
    """(has 받침, 받침 is ㄹ) of how ``text`` ends when read aloud in Korean."""
    t = text.strip()
    t = re.sub(r"[\s)\]}'\"’”]+$", "", t)
    if not t:
        raise ValueError("cannot choose a particle for empty text")
    for unit, reading in _UNIT_READINGS.items():
        if t.endswith(unit):
            return _final(reading)
    last = t[-1]
    if "가" <= last <= "힣":
        tail = (ord(last) - 0xAC00) % 28
        return tail != 0, tail == 8
    if last in "⁰¹²³⁴⁵⁶⁷⁸⁹":  # an exponent: 10⁻¹¹ is read "... 십일"
        return _final(last.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")))
    if last in "0123456789":
        number = re.search(r"[\d,]*\.?\d+$", t).group(0).replace(",", "")
        if "." in number or number.strip("0") == "":
            return _DIGIT[number[-1]]
        zeros = len(number) - len(number.rstrip("0"))
        if zeros == 0:
            return _DIGIT[number[-1]]
        if zeros in _ZEROS:
            return _ZEROS[zeros]
        return True, False  # 만 (4-7 zeros) and 억 (8+) both end in a 받침
    if last.isascii() and last.isalpha():
        if last.isupper():
            return _LETTER_FINAL.get(last, (False, False))
        if t.endswith("ng"):
            return True, False
        return _LOWER_FINAL.get(last, (False, False))
    raise ValueError(f"cannot tell how {text!r} ends when read in Korean; glue the particle with the word")


def has_final_consonant(text: str) -> bool:
    """True when ``text`` read aloud ends in a 받침 (numbers read as Sino-Korean: 1.6 → 일 점 육)."""
    return _final(text)[0]


def josa(text: str, pair: str) -> str:
    """The particle of ``pair`` ("이/가", "은/는", "을/를", "과/와", "으로/로", ...) that fits ``text``."""
    batchim, rieul = _final(text)
    if pair == _EURO:
        return "으로" if batchim and not rieul else "로"
    if pair not in _PAIRS:
        raise ValueError(f"unknown particle pair {pair!r}; allowed: {', '.join([*_PAIRS, _EURO])}")
    with_b, without = _PAIRS[pair]
    return with_b if batchim else without


def with_josa(text: str, pair: str) -> str:
    """``text`` followed by the particle that fits it: ``with_josa("1.6", "이/가") == "1.6이"``."""
    return text + josa(text, pair)


def format_number(x: float, digits: int = 1) -> str:
    """A number for Korean prose: fixed decimals, thousands separators, a real minus sign,
    and ×10ⁿ instead of Python's e-notation for very small or large magnitudes."""
    if not math.isfinite(x):
        raise ValueError(f"cannot write {x!r} in prose")
    if x != 0 and (abs(x) < 10 ** (-digits) / 2 or abs(x) >= 1e7):
        return sci(x, digits)
    text = f"{x:,.{digits}f}"
    return text.replace("-", "−")


def sci(x: float, digits: int = 1) -> str:
    """``4.2×10⁻¹¹``: scientific notation as prose writes it (never ``4.2e-11``)."""
    if not math.isfinite(x):
        raise ValueError(f"cannot write {x!r} in prose")
    if x == 0:
        return "0"
    exponent = math.floor(math.log10(abs(x)))
    mantissa = x / 10 ** exponent
    if round(abs(mantissa), digits) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    head = f"{mantissa:.{digits}f}".replace("-", "−")
    return f"{head}×10{str(exponent).translate(_SUPERSCRIPT)}"


def significant(x: float, digits: int = 2) -> str:
    """``x`` to ``digits`` significant figures: plain digits from 10⁻³ up to 10⁴, else 3.2×10⁻⁶
    (never Python's 3.2e-06); trailing zeros dropped."""
    if x == 0 or -3 <= math.floor(math.log10(abs(x))) < 4:
        return f"{float(f'{x:.{digits}g}'):f}".rstrip("0").rstrip(".")
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    return f"{mantissa.replace('-', '−')}×10" + str(int(exponent)).translate(_SUPERSCRIPT)


@dataclass(frozen=True)
class Estimate:
    """A measured value with its standard error (``se``) and how many runs/samples gave it."""

    value: float
    se: float
    n: int = 1

    def __post_init__(self) -> None:
        if not (math.isfinite(self.value) and math.isfinite(self.se) and self.se >= 0):
            raise ValueError(f"an estimate needs a finite value and se >= 0, got {self.value!r} ± {self.se!r}")


def binomial_se(rate: float, n: int) -> float:
    """Standard error of an error rate (a fraction in [0, 1]) measured on ``n`` test samples."""
    if not (isinstance(n, int) and n > 0):
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be a fraction in [0, 1], got {rate!r}")
    return math.sqrt(rate * (1 - rate) / n)


def mean_se(values: Iterable[float]) -> Estimate:
    """Mean over seeds and its standard error (sample std / √n); one value gives se = 0."""
    xs = [float(v) for v in values]
    if not xs or not all(math.isfinite(v) for v in xs):
        raise ValueError(f"need at least one finite value, got {xs!r}")
    mean = sum(xs) / len(xs)
    if len(xs) == 1:
        return Estimate(mean, 0.0, 1)
    std = math.sqrt(sum((v - mean) ** 2 for v in xs) / (len(xs) - 1))
    return Estimate(mean, std / math.sqrt(len(xs)), len(xs))


def _amount(x: float, digits: int) -> str:
    """A non-negative size with ``digits`` decimals, or one significant figure when it would round
    to zero there (0.03, not 3.0×10⁻²; tiny values still in scientific notation)."""
    if x == 0 or x >= 10 ** (-digits) / 2:
        return format_number(x, digits)
    return significant(x, 1)


def compare(a_name: str, b_name: str, diff: Difference, *, quantity: str = "오차율", unit: str = "%p",
            digits: int = 1, lower: str = "낮았습니다", higher: str = "높았습니다") -> str:
    """One Korean sentence comparing A with B from their difference ``diff`` (A − B, from
    :func:`stats.paired_difference` or :func:`run_difference`, in the units of ``unit``).

    The difference counts as real only when its 95% interval excludes 0 (the chapter's rule,
    :mod:`.stats`); the sentence quotes the interval's half-width, the margin of error (오차 범위),
    in both cases. Otherwise it says the runs cannot tell the two apart, and interprets nothing.
    """
    if not isinstance(diff, Difference):
        raise TypeError(f"compare(a_name, b_name, diff) takes a stats.Difference (A − B), got {type(diff).__name__}; "
                        "build it with stats.paired_difference or report.run_difference")
    _log_verdict(a_name, b_name, quantity, diff)
    size = _amount(abs(diff.value), digits) + unit
    margin = _amount(diff.half_width, digits) + unit   # the margin of error (오차 범위), said either way
    if diff.sign:
        verb = lower if diff.sign < 0 else higher
        return f"{a_name}의 {with_josa(quantity, '이/가')} {b_name}보다 {size}(오차 범위 ±{margin}) {verb}"
    return (f"{a_name}{josa(a_name, '과/와')} {b_name}의 {quantity} 차이({size})는 "
            f"오차 범위(±{margin}) 안이라 이 실행으로는 가릴 수 없습니다")


VERDICT_LOG_ENV = "DLDNA_VERDICT_LOG"


def _log_verdict(a_name: str, b_name: str, quantity: str, diff: Difference) -> None:
    """Append the verdict of one comparison to ``$DLDNA_VERDICT_LOG`` (JSON lines), when set: the
    build records what each page concluded, so that a run with other seeds can be checked against it
    (scripts/check_other_seeds.py)."""
    path = os.environ.get(VERDICT_LOG_ENV)
    if not path:
        return
    import json

    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    record = {"a": a_name, "b": b_name, "quantity": quantity, "sign": diff.sign,
              "value": diff.value, "half_width": diff.half_width, "seeds": diff.seeds}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


def run_difference(a_runs: Sequence[Any], b_runs: Sequence[Any], measure: str = "error", *,
                   level: float = LEVEL) -> tuple[Difference, list[int]]:
    """A − B over runs paired by position (seed ``s`` of both lists), from the per-sample test
    results each run stores (:class:`training.History`): ``measure="error"`` gives the error rate
    in percentage points, ``"loss"`` the mean test loss. Seeds where either run diverged (or is
    ``None``) are left out of both; the second value lists the positions kept."""
    if len(a_runs) != len(b_runs):
        raise ValueError(f"runs are paired by seed: got {len(a_runs)} and {len(b_runs)} runs")
    if measure not in ("error", "loss"):
        raise ValueError(f"measure must be 'error' or 'loss', got {measure!r}")
    kept = [i for i, (a, b) in enumerate(zip(a_runs, b_runs))
            if a is not None and b is not None and not a.diverged and not b.diverged]
    if measure == "error":
        rows = [(a_runs[i].test_errors(), b_runs[i].test_errors()) for i in kept]
    else:
        rows = [(a_runs[i].test_losses(), b_runs[i].test_losses()) for i in kept]
    if len(kept) < 2:
        raise ValueError(f"only {len(kept)} seed(s) finished for both methods (positions {kept}): "
                         "not enough for a comparison")
    diff = paired_difference(np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows]), level=level)
    return (diff.scaled(100) if measure == "error" else diff), kept


def error_estimate(rates: Sequence[float], n_test: int) -> Estimate:
    """Mean error rate in percent over runs (seeds) evaluated on the same ``n_test`` samples.

    The standard error combines the test-set sampling error of the mean rate (binomial; not
    divided by the number of runs, because every run is scored on the same samples) with the
    run-to-run spread (std/√runs) when there are several runs.
    """
    xs = [float(r) for r in rates]
    if not xs:
        raise ValueError("error_estimate needs at least one error rate")
    runs = mean_se(xs)
    test = binomial_se(runs.value, n_test)
    return Estimate(100 * runs.value, 100 * math.hypot(test, runs.se), len(xs))


def format_mean_std(values: Sequence[float], digits: int = 2) -> str:
    """``18.59 ± 0.68``: the mean over seeds ± their sample standard deviation for a table cell
    (one value is shown alone: a single run has no spread)."""
    xs = [float(v) for v in values]
    if not xs:
        raise ValueError("format_mean_std needs at least one value")
    mean = f"{sum(xs) / len(xs):.{digits}f}"
    if len(xs) == 1:
        return mean
    return f"{mean} ± {statistics.stdev(xs):.{digits}f}"


def format_estimate(est: Estimate, digits: int = 2) -> str:
    """``19.55 ± 0.89``: an estimate and its standard error for a table cell."""
    return f"{format_number(est.value, digits)} ± {format_number(est.se, digits)}"


class ClaimError(AssertionError):
    """A sentence of the page is contradicted by the page's own numbers."""


STRICT_CLAIMS_ENV = "DLDNA_STRICT_CLAIMS"


def claims_are_strict() -> bool:
    """True where a contradicted claim must fail (the book build, the tests, CI: they set
    ``$DLDNA_STRICT_CLAIMS=1``); a reader's own run (Colab, Binder, Jupyter) only gets a note."""
    from .env import env_flag

    return env_flag(STRICT_CLAIMS_ENV)


def check_claim(holds: bool, claim: str, evidence: str = "") -> None:
    """Guard a sentence of the prose with the numbers that must make it true.

    ``claim`` quotes the sentence (or its gist), ``evidence`` the numbers that contradict it.
    Where claims are strict (:func:`claims_are_strict`) a contradicted claim raises
    :class:`ClaimError` and stops the build; in a reader's run, whose numbers may differ (another
    GPU, profile or seed), it prints a short Korean note and the notebook goes on.
    """
    if holds:
        return
    detail = f" — {evidence}" if evidence else ""
    if claims_are_strict():
        raise ClaimError(f"본문의 주장이 이 실행의 결과와 맞지 않습니다 (claim contradicted by the outputs): "
                         f"'{claim}'{detail}")
    try:
        particle = josa(claim, "이/가")
    except ValueError:
        particle = "(이)가"
    print(f"참고: 이 실행에서는 본문의 문장 '{claim}'{particle} 맞지 않습니다{detail}. 본문은 웹사이트를 빌드할 때의 "
          "실행을 설명합니다. 프로파일, 장치, 시드가 다르면 숫자가 달라질 수 있습니다.")


def spread(values: Sequence[float]) -> float:
    """max − min of a few values (for claims such as 'the runs agree within x')."""
    if not values:
        raise ValueError("spread of no values")
    return max(values) - min(values)
