"""dldna_helpers.paired: group comparisons reduce to run_difference for one method, average
groups within seed and sample, drop diverged seeds from both sides, and say so when too few
seeds are left; bad input gets clear errors."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats as scipy_stats

from dldna_helpers.paired import compare_runs, group_difference, per_seed_values
from dldna_helpers.report import run_difference
from dldna_helpers.stats import paired_difference

rng = np.random.default_rng(0)


def run(rate: float, diverged: bool = False, mean_loss: float = 1.0):
    errors = (rng.random(3000) < rate).astype(float)
    steps = list(mean_loss + rng.normal(0, 0.01, 50))
    return SimpleNamespace(diverged=diverged, test_errors=lambda: errors, test_losses=lambda: 2 * errors,
                           step_loss=steps)


def test_a_group_of_one_method_is_run_difference():
    a, b = [run(0.10), run(0.12), run(0.11)], [run(0.20), run(0.18), run(0.21)]
    ours = group_difference([a], [b])
    ref, kept = run_difference(a, b)
    assert ours.kept == kept == [0, 1, 2]
    assert ours.diff.value == pytest.approx(ref.value) and ours.diff.half_width == pytest.approx(ref.half_width)


def test_groups_are_averaged_within_seed_and_sample():
    a1, a2 = [run(0.1) for _ in range(3)], [run(0.3) for _ in range(3)]
    b1 = [run(0.25) for _ in range(3)]
    ours = group_difference([a1, a2], [b1]).diff
    mean_a = np.stack([(100 * a1[s].test_errors() + 100 * a2[s].test_errors()) / 2 for s in range(3)])
    ref = paired_difference(mean_a, np.stack([100 * b1[s].test_errors() for s in range(3)]))
    assert ours.value == pytest.approx(ref.value) and ours.half_width == pytest.approx(ref.half_width)


def test_a_seed_where_any_run_diverged_leaves_both_groups():
    a1 = [run(0.1), run(0.1, diverged=True), run(0.1), run(0.1)]
    a2 = [run(0.1), run(0.1), run(0.1), None]
    b = [run(0.3) for _ in range(4)]
    assert group_difference([a1, a2], [b]).kept == [0, 2]


def test_mean_loss_is_the_paired_t_test_on_the_seeds():
    a = [run(0.1, mean_loss=m) for m in (0.50, 0.55, 0.52)]
    b = [run(0.1, mean_loss=m) for m in (0.60, 0.66, 0.61)]
    diff = group_difference([a], [b], "mean_loss").diff
    xa, xb = [float(np.mean(r.step_loss)) for r in a], [float(np.mean(r.step_loss)) for r in b]
    t = scipy_stats.ttest_rel(xa, xb)
    low, high = t.confidence_interval()
    assert diff.value == pytest.approx(np.mean(np.subtract(xa, xb)))
    assert diff.low == pytest.approx(low) and diff.high == pytest.approx(high)


def test_too_few_seeds_gives_a_sentence_not_an_error():
    result = group_difference([[run(0.1)]], [[run(0.2)]])
    assert result.diff is None and result.kept == [0]
    text = compare_runs("Kaiming", "LeCun", result)
    assert "1개뿐" in text and "비교할 수 없습니다" in text
    assert result.sign == 0   # nothing decided: code reading the sign concludes nothing
    clear = group_difference([[run(0.05) for _ in range(3)]], [[run(0.30) for _ in range(3)]])
    assert "낮았습니다" in compare_runs("A", "B", clear)
    assert clear.sign == clear.diff.sign == -1


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="same seeds"):
        group_difference([[run(0.1), run(0.1)]], [[run(0.1)]])
    with pytest.raises(ValueError, match="measure"):
        group_difference([[run(0.1)] * 2], [[run(0.1)] * 2], "accuracy")
    with pytest.raises(ValueError, match="at least one method"):
        group_difference([], [[run(0.1)] * 2])
    with pytest.raises(ValueError, match="measure"):
        per_seed_values(run(0.1), "auc")
