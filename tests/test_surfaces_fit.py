"""The quadratic fit, the Gaussian fit with its width held fixed (a profile), and what the data
determine: 5.4 reports c − A and A/σ², not c, because only those are fixed by a grid near the bottom."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dldna_helpers.surfaces import (
    GaussianParams,
    evaluate_grid,
    extra_parameter_p_value,
    fit_gaussian,
    fit_quadratic,
    gradient,
    ill_conditioned_quadratic,
    minimize_surface,
    rotate_point,
    rotated,
    value,
)

XS = YS = np.linspace(-1, 1, 21)


def _quadratic_grid(m=0.3, x0=0.1, y0=-0.2, k1=0.5, k2=2.0, theta=0.4, quartic=0.0):
    """m + ½(k1·u² + k2·v²) + quartic·(u² + v²)², (u, v) the offset turned by −theta."""
    X, Y = np.meshgrid(XS, YS)
    c, s = math.cos(theta), math.sin(theta)
    u, v = c * (X - x0) + s * (Y - y0), -s * (X - x0) + c * (Y - y0)
    return m + 0.5 * (k1 * u**2 + k2 * v**2) + quartic * (u**2 + v**2) ** 2


def test_the_quadratic_fit_recovers_vertex_value_curvatures_and_angle():
    fit = fit_quadratic(XS, YS, _quadratic_grid())
    assert fit.r2 == pytest.approx(1.0, abs=1e-12)
    assert (fit.minimum, fit.x0, fit.y0) == pytest.approx((0.3, 0.1, -0.2), abs=1e-10)
    k_x, k_y, theta = fit.axes
    assert (k_x, k_y, theta) == pytest.approx((0.5, 2.0, 0.4), abs=1e-9)
    # the fitted quadratic is a surface too: it reproduces the grid
    np.testing.assert_allclose(evaluate_grid(fit, XS, YS), _quadratic_grid(), atol=1e-10)


def test_the_quadratic_axes_follow_the_gaussian_convention():
    """theta in (−45°, 45°]: a valley turned by 70° is reported as turned by −20° with the curvatures swapped."""
    k_x, k_y, theta = fit_quadratic(XS, YS, _quadratic_grid(theta=math.radians(70))).axes
    assert math.degrees(theta) == pytest.approx(-20.0, abs=1e-7)
    assert (k_x, k_y) == pytest.approx((2.0, 0.5), abs=1e-9)


def test_the_gaussian_is_the_quadratic_near_its_centre():
    g = GaussianParams(offset=2.0, amplitude=1.5, x0=0.1, y0=0.0, sigma_x=1.6, sigma_y=3.2, theta=0.3)
    fine = np.linspace(-0.2, 0.4, 25)
    fit = fit_quadratic(fine, fine, evaluate_grid(g, fine, fine), radius=0.15, center=(0.1, 0.0))
    assert fit.minimum == pytest.approx(g.minimum, abs=1e-5)
    assert fit.axes[:2] == pytest.approx(g.curvatures, rel=1e-2)
    assert fit.axes[2] == pytest.approx(g.theta, abs=1e-2)


def test_a_gaussian_grid_is_fitted_back_and_reports_no_bound():
    true = GaussianParams(offset=1.2, amplitude=0.9, x0=-0.1, y0=0.2, sigma_x=0.4, sigma_y=0.7, theta=0.25)
    fit = fit_gaussian(XS, YS, evaluate_grid(true, XS, YS), rotate=True)
    assert fit.r2 == pytest.approx(1.0, abs=1e-9)
    assert fit.at_bound == () and fit.sigma is None
    assert fit.params.offset == pytest.approx(true.offset, rel=1e-5)


def test_a_surface_steeper_than_quadratic_drives_the_free_fit_to_its_amplitude_bound():
    """Walls that steepen (a positive quartic) cannot be matched by the Gaussian, whose quartic is
    negative: the best Gaussian is the quadratic limit σ → ∞, and the fit stops at the bound of A."""
    Z = _quadratic_grid(quartic=0.3)
    fit = fit_gaussian(XS, YS, Z, rotate=True)
    assert "amplitude" in fit.at_bound
    assert fit.r2 <= fit_quadratic(XS, YS, Z).r2 + 1e-9


def test_the_profile_over_sigma_keeps_what_the_data_determine():
    """Holding σ̄ fixed and refitting the rest: c and A move with σ̄², c − A and A/σ² do not,
    and R² climbs towards the quadratic's as σ̄ grows."""
    Z = _quadratic_grid(quartic=0.05)
    quad = fit_quadratic(XS, YS, Z, radius=0.4)
    fits = [fit_gaussian(XS, YS, Z, radius=0.4, rotate=True, sigma=s) for s in (1.0, 3.0, 10.0, 30.0)]
    assert [f.sigma for f in fits] == [1.0, 3.0, 10.0, 30.0]
    for f in fits:
        assert math.sqrt(f.params.sigma_x * f.params.sigma_y) == pytest.approx(f.sigma, rel=1e-9)
    offsets = [f.params.offset for f in fits]
    assert offsets[-1] / offsets[0] > 100
    r2 = [f.r2 for f in fits]
    assert r2 == sorted(r2) and r2[-1] <= quad.r2 + 1e-9
    for f in fits[1:]:
        assert f.params.minimum == pytest.approx(quad.minimum, rel=1e-3)
        assert f.params.curvatures == pytest.approx(quad.axes[:2], rel=2e-2)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_a_bad_fixed_sigma_is_refused(bad):
    with pytest.raises(ValueError, match="sigma"):
        fit_gaussian(XS, YS, _quadratic_grid(), sigma=bad)


def test_the_quadratic_fit_refuses_too_few_points_and_a_flat_grid():
    with pytest.raises(ValueError, match="at least 6"):
        fit_quadratic(XS, YS, _quadratic_grid(), radius=0.1)
    with pytest.raises(ValueError, match="degenerate"):
        fit_quadratic(XS, YS, np.ones((21, 21)))


def test_a_turned_surface_with_a_turned_start_is_the_same_problem():
    angle = 0.7
    valley = rotated(ill_conditioned_quadratic, angle)
    for point in [(1.0, -0.5), (0.3, 2.0)]:
        turned = rotate_point(point, angle)
        assert value(valley, *turned) == pytest.approx(value(ill_conditioned_quadratic, *point), rel=1e-12)
        g = np.array(gradient(ill_conditioned_quadratic, *point))
        c, s = math.cos(angle), math.sin(angle)
        np.testing.assert_allclose(gradient(valley, *turned), np.array([[c, -s], [s, c]]) @ g, atol=1e-12)
    with pytest.raises(ValueError, match=r"\(x, y\)"):
        rotate_point((1.0, 2.0, 3.0), angle)


def test_minimize_surface_finds_the_minimum_and_refuses_a_bad_start():
    g = GaussianParams(offset=1.0, amplitude=0.5, x0=0.3, y0=-0.4, sigma_x=0.5, sigma_y=0.9, theta=0.2)
    (x, y), f = minimize_surface(g, (0.0, 0.0))
    assert (x, y) == pytest.approx((0.3, -0.4), abs=1e-5)
    assert f == pytest.approx(g.minimum, abs=1e-10)
    with pytest.raises(ValueError, match="start"):
        minimize_surface(g, (0.0, float("nan")))


def test_value_evaluates_one_point_as_a_loss_slice_needs_it():
    def scalar_only(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        assert x.dim() == 0 and y.dim() == 0 and x.dtype == torch.float64
        return x**2 + y

    assert value(scalar_only, 2.0, 1.0) == 5.0
    assert isinstance(value(ill_conditioned_quadratic, 1.0, 0.5), float)


def test_the_extra_parameter_test_matches_scipy_and_refuses_bad_input():
    from scipy.stats import f as f_dist

    # SSE 1.0 (simple) vs 0.8 (full) on 30 points with 7 parameters: F = 0.2 / (0.8 / 23)
    p = extra_parameter_p_value(r2_simple=0.9, r2_full=0.92, n_points=30, n_params_full=7)
    assert p == pytest.approx(f_dist.sf(0.2 / (0.8 / 23), 1, 23), rel=1e-12)
    assert extra_parameter_p_value(0.95, 0.94, 30, 7) == 1.0          # the full model fits worse
    assert extra_parameter_p_value(0.9, 0.9 + 1e-6, 1000, 7) > 0.5    # a tiny gain is not evidence
    assert extra_parameter_p_value(0.5, 0.99, 1000, 7) < 1e-10       # a large one is
    with pytest.raises(ValueError, match="n_params_full"):
        extra_parameter_p_value(0.9, 0.95, 7, 7)
    with pytest.raises(ValueError, match="R²"):
        extra_parameter_p_value(0.9, float("nan"), 30, 7)
