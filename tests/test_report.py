"""Evidence-aware phrases: particles that fit the value, comparisons worded from their error."""
from __future__ import annotations

import pytest

from dldna_helpers.stats import Difference, paired_difference
from dldna_helpers.report import (ClaimError, Estimate, binomial_se, check_claim, compare, run_difference,
                                  error_estimate, format_estimate, format_number,
                                  josa, mean_se, sci, with_josa)


@pytest.mark.parametrize("text, pair, expected", [
    ("1.6", "이/가", "이"),        # 일 점 육: 받침 ㄱ
    ("1.2", "이/가", "가"),        # 이
    ("3", "은/는", "은"), ("4", "은/는", "는"), ("10", "을/를", "을"),  # 삼, 사, 십
    ("100", "과/와", "과"), ("2,000", "이/가", "이"),  # 백, 이천
    ("7", "으로/로", "로"), ("8", "으로/로", "로"),  # ㄹ takes 로
    ("6", "으로/로", "으로"), ("2", "으로/로", "로"),
    ("1.2%p", "이/가", "가"),      # 퍼센트포인트
    ("오차율", "이/가", "이"), ("손실", "으로/로", "로"), ("모멘텀", "은/는", "은"), ("학습률", "을/를", "을"),
    ("Adam", "은/는", "은"), ("AdamW", "은/는", "는"), ("SGD", "이/가", "가"), ("Lion", "과/와", "과"),
    ("RMSProp", "은/는", "은"), ("Sophia", "은/는", "는"), ("AdaGrad", "이/가", "가"), ("Kaiming", "은/는", "은"),
    ("4.2×10⁻¹¹", "이/가", "이"),  # ... 마이너스 십일 → 일
])
def test_particle_fits_how_the_text_is_read(text, pair, expected):
    assert josa(text, pair) == expected
    assert with_josa(text, pair) == text + expected


def test_unknown_pair_and_empty_text_are_refused():
    with pytest.raises(ValueError, match="allowed"):
        josa("값", "도/도")
    with pytest.raises(ValueError):
        josa("  ", "이/가")


def test_numbers_never_in_python_e_notation():
    assert sci(4.2e-11) == "4.2×10⁻¹¹"
    assert sci(9.96, 1) == "1.0×10¹"
    assert format_number(-0.25, 2) == "−0.25"
    assert format_number(12345.0, 0) == "12,345"
    assert "e" not in format_number(3e-9, 1)
    with pytest.raises(ValueError):
        format_number(float("nan"))


def test_clearly_lower_and_clearly_higher():
    lower = Difference(-2.0, 1.0, 2.0, 3, 10000)
    assert compare("Adam", "SGD", lower) == "Adam의 오차율이 SGD보다 2.0%p(오차 범위 ±1.0%p) 낮았습니다"
    higher = Difference(2.0, 1.0, 2.0, 3, 10000)
    assert compare("SGD", "Adam", higher) == "SGD의 오차율이 Adam보다 2.0%p(오차 범위 ±1.0%p) 높았습니다"
    assert (compare("Lion", "Adam", higher, quantity="손실", unit="")
            == "Lion의 손실이 Adam보다 2.0(오차 범위 ±1.0) 높았습니다")


def test_within_the_error_is_not_interpreted():
    text = compare("Xavier", "Kaiming", Difference(-0.4, 2.5, 2.0, 3, 10000))
    assert text == ("Xavier와 Kaiming의 오차율 차이(0.4%p)는 오차 범위(±2.5%p) 안이라 "
                    "이 실행으로는 가릴 수 없습니다")
    assert "낮았" not in text and "높았" not in text


def test_the_boundary_is_the_interval_excluding_zero():
    assert "가릴 수 없습니다" in compare("A", "B", Difference(-1.4, 1.4, 2.0, 3, None))
    assert "낮았습니다" in compare("A", "B", Difference(-1.5, 1.4, 2.0, 3, None))


def test_compare_takes_a_difference_only():
    with pytest.raises(TypeError, match="stats.Difference"):
        compare("A", Estimate(1.0, 0.1), "B")


def test_run_difference_pairs_runs_by_seed_and_drops_diverged_seeds():
    from types import SimpleNamespace

    import numpy as np

    rng = np.random.default_rng(0)

    def run(rate, diverged=False):
        errors = (rng.random(2000) < rate).astype(float)
        return SimpleNamespace(diverged=diverged, test_errors=lambda: errors, test_losses=lambda: errors * 2)

    a = [run(0.10), run(0.11), run(0.9, diverged=True), run(0.10)]
    b = [run(0.20), run(0.19), run(0.21), run(0.20)]
    diff, kept = run_difference(a, b)
    assert kept == [0, 1, 3]
    ref = paired_difference(np.stack([a[i].test_errors() for i in kept]), np.stack([b[i].test_errors() for i in kept]))
    assert diff.value == pytest.approx(100 * ref.value) and diff.half_width == pytest.approx(100 * ref.half_width)
    assert diff.sign == -1
    loss, _ = run_difference(a, b, "loss")
    assert loss.value == pytest.approx(2 * ref.value)
    with pytest.raises(ValueError, match="paired by seed"):
        run_difference(a, b[:2])
    with pytest.raises(ValueError, match="not enough"):
        run_difference([a[2], a[0]], [b[2], b[0]])


def test_standard_errors():
    assert binomial_se(0.1, 10000) == pytest.approx(0.003)
    est = mean_se([1.0, 2.0, 3.0])
    assert est.value == 2.0 and est.se == pytest.approx(1 / 3 ** 0.5) and est.n == 3
    with pytest.raises(ValueError):
        binomial_se(1.5, 10)
    with pytest.raises(ValueError):
        mean_se([])


def test_check_claim_names_the_claim_and_the_evidence():
    check_claim(True, "never raised")
    with pytest.raises(ClaimError, match="모멘텀이 가장 빠르다.*26 > 20"):
        check_claim(26 < 20, "모멘텀이 가장 빠르다", "26 > 20 스텝")


def test_a_readers_run_gets_a_note_instead_of_an_error(monkeypatch, capsys):
    monkeypatch.delenv("DLDNA_STRICT_CLAIMS", raising=False)
    check_claim(26 < 20, "모멘텀이 가장 빠릅니다", "26 > 20 스텝")
    out = capsys.readouterr().out
    assert "이 실행에서는 본문의 문장 '모멘텀이 가장 빠릅니다'가 맞지 않습니다 — 26 > 20 스텝" in out
    monkeypatch.setenv("DLDNA_STRICT_CLAIMS", "1")
    with pytest.raises(ClaimError):
        check_claim(False, "x")


def test_error_estimate_combines_test_sampling_and_seed_spread():
    one = error_estimate([0.18], 2000)
    assert one.value == pytest.approx(18.0)
    assert one.se == pytest.approx(100 * binomial_se(0.18, 2000))
    three = error_estimate([0.10, 0.12, 0.14], 10000)
    seed_se = 0.02 / 3 ** 0.5
    assert three.value == pytest.approx(12.0)
    assert three.se == pytest.approx(100 * (binomial_se(0.12, 10000) ** 2 + seed_se ** 2) ** 0.5)
    assert three.n == 3
    with pytest.raises(ValueError):
        error_estimate([], 100)


def test_format_estimate_for_tables():
    assert format_estimate(Estimate(19.55, 0.887)) == "19.55 ± 0.89"
    assert format_estimate(Estimate(-0.5, 0.25), 1) == "−0.5 ± 0.2"


def _guard_cells(page: str) -> list[str]:
    """The hidden claim-check cells (tag remove-cell) of a MyST page, as source code."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / page).read_text(encoding="utf-8")
    return re.findall(r"```\{code-cell\} ipython3\n:tags: \[remove-cell\]\n\n(.*?)```", text, flags=re.S)


def test_a_page_guard_stops_the_build_when_its_numbers_contradict_the_prose():
    """5.1's guard on Glorot's uniform form, run on a table whose uniform weights leave ±b."""
    import math

    import pandas as pd

    cell = next(c for c in _guard_cells("book/initialization.md") if "edge = std_table[" in c)
    formula_std = {"lecun": 0.0357, "orthogonal": 0.0357, "kaiming_normal": 0.0505, "scaled_orthogonal": 0.0505}

    def run(uniform_edge: float) -> None:
        table = pd.DataFrame({"가장 큰 |값| / 표준편차": {"xavier_uniform": uniform_edge, "xavier_normal": 4.7}})
        exec(cell, {"math": math, "check_claim": check_claim, "std_table": table, "formula_std": formula_std})

    run(1.73)   # the outputs agree with the sentence: nothing happens
    with pytest.raises(ClaimError, match="균등 분포의 값은"):
        run(2.5)


def test_the_pipeline_guard_catches_a_start_far_from_chance():
    from types import SimpleNamespace

    cell = next(c for c in _guard_cells("book/pipeline.md") if "찍기 수준" in c)
    clear = SimpleNamespace(sign=-1)
    ns = {"check_claim": check_claim, "diff": clear, "histories": [SimpleNamespace(diverged=False, status=lambda: "완료")] * 3,
          "top_share": [47.0, 96.0, 60.0]}
    exec(cell, {**ns, "acc0": [9.1, 10.7, 5.5]})
    with pytest.raises(ClaimError, match="찍기 수준"):
        exec(cell, {**ns, "acc0": [35.0, 10.7, 5.5]})


def test_format_mean_std_is_the_sample_std_and_a_lone_value_alone():
    from dldna_helpers.report import format_mean_std

    assert format_mean_std([18.0, 19.2, 18.6]) == "18.60 ± 0.60"
    assert format_mean_std([1.5], 3) == "1.500"
    with pytest.raises(ValueError):
        format_mean_std([])
