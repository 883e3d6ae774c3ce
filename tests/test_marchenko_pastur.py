"""dldna_helpers.random_matrix: the Marchenko–Pastur density is a density, and it is the one
large Gaussian matrices follow (histogram and edges); bad input is refused."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dldna_helpers.random_matrix import (
    marchenko_pastur_pdf, marchenko_pastur_support, singular_value_edges, singular_value_pdf,
)


@pytest.mark.parametrize("ratio", [0.05, 0.25, 0.5, 0.9])
def test_eigenvalue_density_integrates_to_one(ratio):
    low, high = marchenko_pastur_support(ratio)
    x = np.linspace(low, high, 400_001)
    assert np.trapezoid(marchenko_pastur_pdf(x, ratio), x) == pytest.approx(1, abs=1e-4)
    assert marchenko_pastur_pdf(np.array([low - 1e-3, high + 1e-3, -1.0]), ratio).tolist() == [0, 0, 0]


@pytest.mark.parametrize("rows, cols, std", [(128, 128, 1 / math.sqrt(128)), (256, 784, 0.05), (900, 300, 2.0)])
def test_singular_value_density_integrates_to_one(rows, cols, std):
    _, high = singular_value_edges(rows, cols, std)
    s = np.linspace(0, 1.05 * high, 400_001)
    assert np.trapezoid(singular_value_pdf(s, rows, cols, std), s) == pytest.approx(1, abs=1e-4)


def test_singular_value_density_is_the_eigenvalue_density_after_the_change_of_variables():
    rows, cols, std = 300, 700, 0.3
    scale = max(rows, cols) * std**2
    s = np.linspace(*singular_value_edges(rows, cols, std), 50)[1:-1]
    expected = marchenko_pastur_pdf(s**2 / scale, rows / cols) * 2 * s / scale
    np.testing.assert_allclose(singular_value_pdf(s, rows, cols, std), expected, rtol=1e-12)
    # the square case is the quarter circle √(4 − t²)/π in t = s/(std·√n), finite at 0
    n = 64
    t = np.array([0.0, 0.5, 1.0, 1.9])
    np.testing.assert_allclose(singular_value_pdf(t * std * math.sqrt(n), n, n, std) * std * math.sqrt(n),
                               np.sqrt(4 - t**2) / math.pi, rtol=1e-12)


def _singular_values(rows: int, cols: int, std: float, seed: int = 0) -> np.ndarray:
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(rows, cols, generator=g, dtype=torch.float64) * std
    return torch.linalg.svdvals(w).numpy()


@pytest.mark.parametrize("rows, cols", [(1200, 1200), (800, 2400), (2000, 1000)])
def test_large_gaussian_matrix_follows_the_density(rows, cols):
    std = 0.7 / math.sqrt(cols)
    sv = _singular_values(rows, cols, std)
    low, high = singular_value_edges(rows, cols, std)
    edges = np.linspace(0, 1.05 * high, 31)
    hist, _ = np.histogram(sv, bins=edges, density=True)
    # the density averaged over each bin (not sampled at its centre), on a fine grid
    fine = np.linspace(edges[0], edges[-1], 30 * 400 + 1)
    pdf = singular_value_pdf(fine, rows, cols, std)
    predicted = np.array([pdf[i * 400:(i + 1) * 400 + 1].mean() for i in range(30)])
    assert np.abs(hist - predicted).max() < 0.08 * predicted.max()
    if rows != cols:   # the spectrum ends where the law says: no singular value near 0
        assert sv.min() == pytest.approx(low, rel=0.03) and sv.max() == pytest.approx(high, rel=0.03)


@pytest.mark.parametrize("ratio", [0, -0.5, 1.5, float("nan"), "0.5"])
def test_bad_ratio_is_refused(ratio):
    with pytest.raises(ValueError, match="ratio"):
        marchenko_pastur_pdf(1.0, ratio)


@pytest.mark.parametrize("rows, cols, std, word", [(0, 5, 1.0, "rows"), (5, 2.5, 1.0, "cols"),
                                                   (5, 5, 0.0, "std"), (5, 5, float("inf"), "std")])
def test_bad_shape_or_std_is_refused(rows, cols, std, word):
    with pytest.raises(ValueError, match=word):
        singular_value_pdf(1.0, rows, cols, std)
