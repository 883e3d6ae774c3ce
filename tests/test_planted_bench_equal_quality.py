"""bench/bench_landscape.py times PyHessian and Lanczos at equal quality: each at the loosest
tolerance of the common ladder whose eigenvalue error meets the target (issue 18, item 10).
Checked by planting a search that returns the tightest rung, and one that stops a rung late."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import bench_landscape as bench  # noqa: E402


def test_loosest_tolerance_that_meets_the_target():
    tried = []

    def error(tol: float) -> float:   # error falls with the tolerance, as for both methods
        tried.append(tol)
        return 0.5 * tol

    tol, err = bench.loosest_tolerance(error, target=1e-4)
    assert (tol, err) == (1e-4, 5e-5)          # 3e-4 gives 1.5e-4 > target; 1e-4 is the first to pass
    assert tried == [t for t in bench.TOL_LADDER if t >= 1e-4]   # nothing tighter is run
    assert bench.TOL_LADDER == tuple(sorted(bench.TOL_LADDER, reverse=True))


def test_unreachable_target_reports_the_tightest_rung_and_its_error():
    tol, err = bench.loosest_tolerance(lambda t: 1.0, target=1e-4)
    assert tol == bench.TOL_LADDER[-1] and err == 1.0   # the caller prints "target NOT reached"
