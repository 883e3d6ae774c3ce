"""Tests of dldna_helpers.surfaces: test functions, the Gaussian fit, optimizer paths."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dldna_helpers.surfaces import (
    HIMMELBLAU_MINIMA,
    GaussianParams,
    Path,
    evaluate_grid,
    fit_gaussian,
    gaussian_mixture,
    gradient,
    himmelblau,
    ill_conditioned_quadratic,
    inverted_gaussian,
    optimizer_paths,
    r2_by_radius,
    saddle,
    steps_to_tolerance,
)

TRUE = GaussianParams(offset=2.3, amplitude=1.6, x0=0.35, y0=-0.25, sigma_x=0.7, sigma_y=1.3)
TILTED = GaussianParams(offset=0.6, amplitude=0.08, x0=-0.2, y0=0.3, sigma_x=0.3, sigma_y=0.5, theta=0.5)
WELLS = (GaussianParams(0, 1.0, -1.0, 0.5, 0.6, 0.9), GaussianParams(0, 0.7, 1.2, -0.4, 0.8, 0.5))

FUNCTIONS = {
    "inverted_gaussian": TRUE,
    "tilted_gaussian": TILTED,
    "gaussian_mixture": lambda x, y: gaussian_mixture(x, y, WELLS, offset=1.5),
    "quadratic": ill_conditioned_quadratic,
    "himmelblau": himmelblau,
    "saddle": saddle,
}


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("point", [(0.3, -0.7), (-1.1, 0.9), (2.0, 1.5)])
def test_gradients_match_central_differences(name, point):
    fn = FUNCTIONS[name]
    h = 1e-6

    def f(x, y):
        return float(fn(torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)))

    x, y = point
    fd = ((f(x + h, y) - f(x - h, y)) / (2 * h), (f(x, y + h) - f(x, y - h)) / (2 * h))
    np.testing.assert_allclose(gradient(fn, x, y), fd, rtol=1e-6, atol=1e-7)


def test_known_values():
    for mx, my in HIMMELBLAU_MINIMA:
        assert float(himmelblau(torch.tensor(mx, dtype=torch.float64), torch.tensor(my, dtype=torch.float64))) < 1e-9
    assert gradient(saddle, 0.0, 0.0) == (0.0, 0.0)
    z = TRUE(torch.tensor(TRUE.x0), torch.tensor(TRUE.y0))
    assert float(z) == pytest.approx(TRUE.minimum)
    # the Gaussian well is not convex: its second derivative along x turns negative beyond one sigma
    def d2(x):
        h = 1e-4
        f = lambda t: float(TRUE(torch.tensor(t, dtype=torch.float64), torch.tensor(TRUE.y0, dtype=torch.float64)))
        return (f(x + h) - 2 * f(x) + f(x - h)) / h**2
    assert d2(TRUE.x0) > 0 and d2(TRUE.x0 + 2 * TRUE.sigma_x) < 0


def test_fit_recovers_parameters_from_noisy_surface():
    xs, ys = np.linspace(-3, 3, 61), np.linspace(-3.5, 3, 51)
    Z = evaluate_grid(TRUE, xs, ys)
    assert Z.shape == (ys.size, xs.size)
    noisy = Z + np.random.default_rng(0).normal(0, 0.01, Z.shape)
    fit = fit_gaussian(xs, ys, noisy)
    for key, true in TRUE.as_dict().items():
        assert getattr(fit.params, key) == pytest.approx(true, rel=0.01), key
    assert fit.r2 > 0.99
    assert fit.n_points == Z.size


def test_rotated_fit_recovers_tilted_well_that_axis_aligned_fit_cannot():
    xs, ys = np.linspace(-1.5, 1.2, 55), np.linspace(-1.0, 1.6, 53)
    Z = evaluate_grid(TILTED, xs, ys) + np.random.default_rng(1).normal(0, 0.0005, (53, 55))
    fit = fit_gaussian(xs, ys, Z, rotate=True)
    for key, true in TILTED.as_dict().items():
        assert getattr(fit.params, key) == pytest.approx(true, rel=0.01), key
    aligned = fit_gaussian(xs, ys, Z)
    assert aligned.params.theta == 0.0 and aligned.r2 < fit.r2 - 0.01


def test_fit_within_radius_and_r2_falls_for_non_gaussian_surface():
    # quadratic at the centre, linear walls far away: a Gaussian describes it only locally
    def hyperbolic(x, y):
        return torch.sqrt(1 + x**2 + 0.5 * y**2) - 1

    xs = ys = np.linspace(-6, 6, 61)
    Z = evaluate_grid(hyperbolic, xs, ys)
    fits = r2_by_radius(xs, ys, Z, [0.6, 2.0, 6.0])
    r2 = [f.r2 for f in fits]
    assert r2[0] > 0.999 and r2[0] > r2[1] > r2[2]
    assert [f.n_points for f in fits] == sorted(f.n_points for f in fits)
    assert fits[0].center == (0.0, 0.0)


def test_fit_bad_input():
    xs, ys = np.linspace(-1, 1, 11), np.linspace(-1, 1, 9)
    Z = evaluate_grid(TRUE, xs, ys)
    with pytest.raises(ValueError, match="non-empty"):
        fit_gaussian(np.array([]), ys, np.zeros((9, 0)))
    with pytest.raises(ValueError, match="shape"):
        fit_gaussian(xs, ys, Z.T)
    bad = Z.copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        fit_gaussian(xs, ys, bad)
    with pytest.raises(ValueError, match="radius"):
        fit_gaussian(xs, ys, Z, radius=0.05)
    with pytest.raises(ValueError, match="radius must be positive"):
        fit_gaussian(xs, ys, Z, radius=-1.0)
    with pytest.raises(ValueError, match="radii"):
        r2_by_radius(xs, ys, Z, [])
    with pytest.raises(ValueError, match="sigma"):
        GaussianParams(0, 1, 0, 0, 0.0, 1.0)


def test_sgd_path_matches_closed_form_iterates():
    lr, ratio, steps, start = 0.05, 8.0, 30, (2.0, 1.0)
    paths = optimizer_paths(ill_conditioned_quadratic, start, {"SGD": lambda p: torch.optim.SGD(p, lr=lr)}, steps)
    k = np.arange(steps + 1)
    # gradient descent on x² + r·y² multiplies x by (1 − 2η) and y by (1 − 2rη) each step
    expected = np.stack([start[0] * (1 - 2 * lr) ** k, start[1] * (1 - 2 * ratio * lr) ** k], axis=1)
    np.testing.assert_allclose(paths["SGD"].xy, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(paths["SGD"].loss, expected[:, 0] ** 2 + ratio * expected[:, 1] ** 2, rtol=1e-12)


def test_momentum_path_matches_heavy_ball_recurrence_and_labels_come_from_mapping():
    lr, mu, steps, start = 0.02, 0.9, 40, (-1.5, 0.8)
    runs = {"모멘텀": lambda p: torch.optim.SGD(p, lr=lr, momentum=mu), "Adam": lambda p: torch.optim.Adam(p, lr=0.1)}
    paths = optimizer_paths(ill_conditioned_quadratic, start, runs, steps)
    assert list(paths) == ["모멘텀", "Adam"] and paths["Adam"].label == "Adam"
    w, v, xs = np.array(start), np.zeros(2), [np.array(start)]
    for _ in range(steps):
        g = np.array([2, 16]) * w
        v = mu * v + g
        w = w - lr * v
        xs.append(w)
    np.testing.assert_allclose(paths["모멘텀"].xy, np.array(xs), rtol=1e-10, atol=1e-12)


def test_paths_stop_when_they_diverge_and_bad_input():
    paths = optimizer_paths(ill_conditioned_quadratic, (1.0, 1.0), {"big": lambda p: torch.optim.SGD(p, lr=0.5)}, 200)
    assert paths["big"].diverged_step is not None and len(paths["big"].loss) == paths["big"].diverged_step
    assert steps_to_tolerance(paths["big"], 0.0, 1e-3) is None
    sgd = {"SGD": lambda p: torch.optim.SGD(p, lr=0.1)}
    with pytest.raises(ValueError, match="steps"):
        optimizer_paths(saddle, (1.0, 1.0), sgd, 0)
    with pytest.raises(ValueError, match="start"):
        optimizer_paths(saddle, (1.0, float("nan")), sgd, 5)
    with pytest.raises(ValueError, match="optimizers is empty"):
        optimizer_paths(saddle, (1.0, 1.0), {}, 5)
    with pytest.raises(TypeError, match="not a torch.optim.Optimizer"):
        optimizer_paths(saddle, (1.0, 1.0), {"x": lambda p: p}, 5)


def test_steps_to_tolerance_requires_staying_inside():
    path = Path("osc", np.zeros((6, 2)), np.array([5.0, 0.01, 3.0, 0.5, 0.02, 0.001]))
    assert steps_to_tolerance(path, 0.0, 0.05) == 4   # step 1 touched the band but left it again
    assert steps_to_tolerance(path, 0.0, 1e-4) is None
    assert steps_to_tolerance(path, 0.0, 10.0) == 0
    with pytest.raises(ValueError, match="tol"):
        steps_to_tolerance(path, 0.0, 0.0)


def test_steps_to_tolerance_with_settle_refuses_an_entry_just_before_the_end():
    path = Path("late", np.zeros((6, 2)), np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.01]))
    assert steps_to_tolerance(path, 0.0, 0.05) == 5                # entered at the last step
    assert steps_to_tolerance(path, 0.0, 0.05, settle=1) is None   # but stayed for no step after
    early = Path("early", np.zeros((6, 2)), np.array([5.0, 0.01, 0.01, 0.01, 0.01, 0.01]))
    assert steps_to_tolerance(early, 0.0, 0.05, settle=4) == 1
    assert steps_to_tolerance(early, 0.0, 0.05, settle=5) is None
    with pytest.raises(ValueError, match="settle"):
        steps_to_tolerance(early, 0.0, 0.05, settle=-1)


def test_inverted_gaussian_matches_formula():
    x, y = torch.tensor([0.1, -2.0]), torch.tensor([1.0, 0.5])
    expected = 2.3 - 1.6 * np.exp(-((x.numpy() - 0.35) ** 2 / (2 * 0.49) + (y.numpy() + 0.25) ** 2 / (2 * 1.69)))
    np.testing.assert_allclose(inverted_gaussian(x, y, **TRUE.as_dict()).numpy(), expected, rtol=1e-6)
