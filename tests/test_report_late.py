"""The hidden claim cells of 5.4 stop the build when the numbers contradict the prose.

Each test takes a claim cell from the page source itself and runs it on numbers that agree with
the prose and on numbers that contradict it; only the second must raise.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from dldna_helpers.path_sweep import Sweep
from dldna_helpers.report import ClaimError
from dldna_helpers.surfaces import Path as SurfacePath
from dldna_helpers.surfaces import fit_gaussian, fit_quadratic

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "gaussian_paths.md"


@pytest.fixture(autouse=True)
def strict(monkeypatch):
    monkeypatch.setenv("DLDNA_STRICT_CLAIMS", "1")


def _hidden_cell(marker: str) -> str:
    cells = re.findall(r"```\{code-cell\} ipython3\n:tags: \[remove-cell\]\n(.*?)\n```", PAGE.read_text(), re.S)
    found = [c for c in cells if marker in c]
    assert len(found) == 1, f"expected one hidden cell mentioning {marker!r} in {PAGE.name}, found {len(found)}"
    return found[0]


def _namespace(**values) -> dict:
    """The page's own helper cell (imports, lr_text, names_text) plus the given variables."""
    from dldna_helpers.report import format_number
    from dldna_helpers.surfaces import extra_parameter_p_value

    namespace = {"np": np, "math": math, "format_number": format_number,
                 "extra_parameter_p_value": extra_parameter_p_value}
    exec(_hidden_cell("본문의 숫자와 문장을 만드는 도구"), namespace)
    namespace.update(values)
    return namespace


# ------------------------------------------------------------------ the profile over σ
XS = YS = np.linspace(-1, 1, 21)
X, Y = np.meshgrid(XS, YS)


def _profile_namespace(Z: np.ndarray) -> dict:
    free = fit_gaussian(XS, YS, Z, radius=0.35, rotate=True)
    sigma_free = math.sqrt(free.params.sigma_x * free.params.sigma_y)
    sigmas = sigma_free * np.geomspace(0.5, 20, 7)
    prof = [fit_gaussian(XS, YS, Z, radius=0.35, rotate=True, sigma=s) for s in sigmas]
    quad = fit_quadratic(XS, YS, Z, radius=0.35)
    inside = np.hypot(X - quad.center[0], Y - quad.center[1]) <= 0.35 * (1 + 1e-9)
    return _namespace(free=free, sigma_free=sigma_free, sigmas=sigmas, prof=prof, quad=[quad],
                      window_span=[float(np.ptp(Z[inside]))])


def test_the_profile_claims_hold_for_walls_steeper_than_a_quadratic():
    Z = 0.3 + 0.2 * X**2 + 0.4 * Y**2 + 0.1 * X * Y + 0.5 * (X**2 + Y**2) ** 2
    exec(_hidden_cell("폭을 고정한 범위 전체에서 R²는"), _profile_namespace(Z))


def test_the_profile_claims_fail_on_a_real_gaussian_whose_width_the_data_fix():
    """A true Gaussian well of width 0.3: fixing σ̄ far from 0.3 visibly worsens the fit."""
    Z = 1.0 - 0.8 * np.exp(-(X**2 / (2 * 0.3**2) + Y**2 / (2 * 0.4**2)))
    with pytest.raises(ClaimError, match="본문의 주장"):
        exec(_hidden_cell("폭을 고정한 범위 전체에서 R²는"), _profile_namespace(Z))


# ------------------------------------------------------------------ the paths on the slice
def _sweep(name: str, steps: dict[float, int | None], final: float = 0.3) -> Sweep:
    """A sweep whose path at each rate reaches the target (0.3, tol 0.01) at the given step and stays
    (121 points, as the page's horizon of 120 steps with 80 to settle); each coordinate moves by the
    rate at every step, as Lion's do."""
    runs = {}
    for lr, reach in steps.items():
        loss = np.full(121, 0.5)
        if reach is not None:
            loss[reach:] = final
        xy = np.cumsum(np.full((121, 2), lr), axis=0)
        runs[lr] = [SurfacePath(name, xy, loss)]
    return Sweep(name, runs, target=0.3, tol=0.01, settle=80)


def _slice_namespace(reach: dict[str, int]) -> dict:
    sweeps = {n: _sweep(n, {0.01: None, 0.1: r, 1.0: None}) for n, r in reach.items()}
    return _namespace(sweeps=sweeps, reach={n: s.steps(s.best) for n, s in sweeps.items()},
                      STEPS=40, HORIZON=120, START_DIST=0.8, f_min=0.3, f_start=0.5,
                      curv_small=[2.4, 3.0])


AGREE = {"SGD": 3, "RMSProp": 4, "AdaGrad": 5, "모멘텀(μ = 0.9)": 30, "Adam": 21, "Lion": 25}


def test_the_slice_claims_hold_when_the_methods_without_momentum_arrive_first():
    exec(_hidden_cell("모멘텀 계수 0.9를 쓰는 세 방법은"), _slice_namespace(AGREE))


def test_the_slice_claims_fail_when_a_momentum_method_arrives_as_early():
    with pytest.raises(ClaimError, match="모멘텀 계수 0.9"):
        exec(_hidden_cell("모멘텀 계수 0.9를 쓰는 세 방법은"), _slice_namespace({**AGREE, "Adam": 4}))


def test_the_slice_claims_fail_when_a_pick_sits_on_the_edge_of_its_grid():
    namespace = _slice_namespace(AGREE)
    namespace["sweeps"]["SGD"] = _sweep("SGD", {0.01: None, 0.1: 3})   # the pick is the largest tried
    with pytest.raises(ClaimError, match="안쪽"):
        exec(_hidden_cell("모멘텀 계수 0.9를 쓰는 세 방법은"), namespace)


# ------------------------------------------------------------------ the turned valley
def _rotation_namespace(rms: dict[float, float], sgd: float = 9.5, adam: float = 35.0) -> dict:
    angles = [0.0, 22.0, 45.0]
    sweep = _sweep("x", {0.01: None, 0.1: 5, 1.0: None})
    steps_at = {}
    for deg in angles:
        steps_at["SGD", deg], steps_at["최적 모멘텀", deg] = sgd, 6.0
        steps_at["RMSProp", deg], steps_at["Adam", deg] = rms[deg], adam
        steps_at["Adafactor", deg] = rms[deg] + 1
        steps_at["Adam (β₁=0)", deg] = (sgd + adam) / 2
    page = PAGE.read_text()
    kappa = re.search(r"(def diagonal_kappa.*?return float\(.*?\)\n)", page, re.S).group(1)
    namespace = _namespace(ANGLES=angles, slice_tilt=22.0, steps_at=steps_at, lam_min=2.0, lam_max=16.0,
                           turned={(n, deg): sweep for n in ("SGD", "RMSProp", "Adam", "Adam (β₁=0)", "Adafactor")
                                   for deg in angles})
    exec(kappa, namespace)
    return namespace


def test_the_rotation_claims_hold_when_rmsprop_loses_its_edge_at_45_degrees():
    exec(_hidden_cell("RMSProp은 골짜기를 45° 돌리면 느려진다"), _rotation_namespace({0.0: 4, 22.0: 6, 45.0: 9.5}))


@pytest.mark.parametrize("rms", [{0.0: 4, 22.0: 6, 45.0: 4}, {0.0: 4, 22.0: 6, 45.0: 6}])
def test_the_rotation_claims_fail_when_rmsprop_keeps_its_edge(rms):
    with pytest.raises(ClaimError, match="RMSProp"):
        exec(_hidden_cell("RMSProp은 골짜기를 45° 돌리면 느려진다"), _rotation_namespace(rms))


def test_the_rotation_claims_fail_when_sgd_depends_on_the_angle():
    namespace = _rotation_namespace({0.0: 4, 22.0: 6, 45.0: 9.5})
    namespace["steps_at"]["SGD", 45.0] = 12.0
    with pytest.raises(ClaimError, match="각도와 상관없다"):
        exec(_hidden_cell("RMSProp은 골짜기를 45° 돌리면 느려진다"), namespace)
