"""The hidden claim cells of 5.4 stop the build when the numbers contradict the prose.

The cell is taken from the page source itself and run on numbers that agree with the prose and
on numbers that contradict it; only the second must raise.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from dldna_helpers.report import ClaimError, check_claim

ROOT = Path(__file__).resolve().parents[1]


def _claim_cell(page: str, marker: str) -> str:
    cells = re.findall(r"```\{code-cell\} ipython3\n:tags: \[remove-cell\]\n(.*?)\n```", (ROOT / page).read_text(), re.S)
    found = [c for c in cells if marker in c]
    assert len(found) == 1, f"expected one hidden claim cell mentioning {marker!r} in {page}, found {len(found)}"
    return found[0]


def _quadratic_namespace(untuned_steps, tuned_steps, sgd_steps=22):
    untuned, tuned = "모멘텀 (η=0.02, μ=0.9)", "모멘텀 (η*, μ*)"
    return {"check_claim": check_claim, "np": np, "untuned": untuned, "tuned": tuned,
            "q_reach": {"SGD (η=0.1)": sgd_steps, untuned: untuned_steps, tuned: tuned_steps, "RMSProp (η=0.1)": 27},
            "q_rate": {"SGD (η=0.1)": 0.8, untuned: float(np.sqrt(0.9)), tuned: 0.478}}


def test_the_momentum_claims_hold_for_agreeing_numbers():
    exec(_claim_cell("book/gaussian_paths.md", "모멘텀 (η=0.02, μ=0.9)은"), _quadratic_namespace(None, 11))


@pytest.mark.parametrize("untuned, tuned, sgd", [(40, 11, 22), (None, 30, 22), (None, None, 22)])
def test_contradicting_numbers_stop_the_build(untuned, tuned, sgd):
    with pytest.raises(ClaimError, match="본문의 주장"):
        exec(_claim_cell("book/gaussian_paths.md", "모멘텀 (η=0.02, μ=0.9)은"), _quadratic_namespace(untuned, tuned, sgd))


def test_the_sgd_step_claim_of_the_slice_section_fails_when_sgd_speeds_up():
    cell = _claim_cell("book/gaussian_paths.md", "SGD의 보폭은 가파른 출발점에서")
    namespace = {"check_claim": check_claim, "np": np, "best_lr": {"Adam": 0.1},
                 "moves": {"SGD": np.array([1.0, 0.5, 0.2, 0.1, 0.05]), "Adam": np.array([0.1 * np.sqrt(2)])},
                 "line": np.array([5.0, 1.0, 0.3, 1.0, 5.0]), "Z": np.array([[0.3, 1.4]])}
    exec(cell, dict(namespace))
    namespace["moves"] = {"SGD": np.array([0.05, 0.1, 0.2, 0.5, 1.0]), "Adam": np.array([0.1 * np.sqrt(2)])}
    with pytest.raises(ClaimError, match="SGD의 보폭"):
        exec(cell, dict(namespace))
