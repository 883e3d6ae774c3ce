"""Wavelet multiscale analysis and H0 persistence on analytic surfaces with known structure."""
from __future__ import annotations

import numpy as np
import pytest
import ripser  # a declared dependency (pyproject, requirements.txt): missing means a broken install
from scipy.sparse import coo_matrix

from dldna_helpers.landscape import sublevel_persistence, wavelet_multiscale

GRID = np.linspace(-3, 3, 61)
X, Y = np.meshgrid(GRID, GRID)


def three_wells() -> tuple[np.ndarray, list[tuple[float, float]], list[float]]:
    """1 − a sum of three Gaussian wells of different depths; minima near the centres."""
    centres, depths = [(-1.5, -1.0), (1.5, -1.0), (0.0, 1.6)], [1.0, 0.7, 0.4]
    z = np.ones_like(X)
    for (cx, cy), depth in zip(centres, depths):
        z -= depth * np.exp(-((X - cx) ** 2 + (Y - cy) ** 2) / (2 * 0.5**2))
    return z, centres, depths


def test_three_wells_give_three_persistent_minima():
    z, centres, depths = three_wells()
    result = sublevel_persistence(z)
    assert result.count(0.05) == 3
    assert np.isinf(result.death[0]) and result.birth[0] == pytest.approx(z.min())
    # the minima sit at the well centres, deepest first
    for (row, col), (cx, cy) in zip(result.location[:3], centres):
        assert abs(GRID[col] - cx) < 0.11 and abs(GRID[row] - cy) < 0.11
    # births are the well bottoms; the shallower wells die at saddles below the plateau (1.0)
    assert result.birth[1] == pytest.approx(1 - depths[1], abs=0.02)
    assert result.birth[2] == pytest.approx(1 - depths[2], abs=0.02)
    assert np.all(result.death[1:3] <= 1.0)


def test_bowl_has_one_minimum_and_ties_add_nothing():
    assert sublevel_persistence(X**2 + Y**2).count(0.0) == 1
    assert sublevel_persistence(np.zeros((5, 7))).count(0.0) == 1


def test_matches_ripser_lower_star():
    rng = np.random.default_rng(0)
    z = rng.random((12, 9))
    rows, cols = z.shape
    idx = np.arange(z.size).reshape(z.shape)
    i, j, v = list(idx.ravel()), list(idx.ravel()), list(z.ravel())
    for r in range(rows):  # 8-connectivity; an edge enters the filtration at its higher end
        for c in range(cols):
            for dr, dc in [(0, 1), (1, 0), (1, 1), (1, -1)]:
                rr, cc = r + dr, c + dc
                if 0 <= rr < rows and 0 <= cc < cols:
                    i.append(idx[r, c]), j.append(idx[rr, cc]), v.append(max(z[r, c], z[rr, cc]))
    dm = coo_matrix((v, (i, j)), shape=(z.size, z.size)).tocsr()
    dgm = ripser.ripser(dm, maxdim=0, distance_matrix=True)["dgms"][0]
    dgm = dgm[dgm[:, 1] > dgm[:, 0]]
    ours = sublevel_persistence(z)
    # ripser works in float32: compare to its precision
    expected = np.array(sorted(map(tuple, dgm)))
    got = np.array(sorted(zip(ours.birth, ours.death)))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_persistence_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        sublevel_persistence(np.zeros(5))
    with pytest.raises(ValueError, match="nan or inf"):
        sublevel_persistence(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="connectivity must be 4 or 8"):
        sublevel_persistence(np.zeros((3, 3)), connectivity=6)
    with pytest.raises(ValueError, match="threshold"):
        sublevel_persistence(np.zeros((3, 3))).count(-1)


def test_wavelet_known_structures():
    n = 32
    checker = np.indices((n, n)).sum(0) % 2 * 2.0 - 1.0
    r = wavelet_multiscale(checker)
    assert r.roughness == pytest.approx(1.0)
    assert r.detail_energy[1] == pytest.approx((checker**2).sum())      # all energy in cD_1
    assert np.allclose(r.details[1][0], 0) and np.allclose(r.details[1][1], 0)
    assert wavelet_multiscale(np.full((n, n), 4.2)).roughness == 0.0
    smooth = np.add.outer(np.linspace(-1, 1, n) ** 2, np.linspace(-1, 1, n) ** 2)
    rough = smooth + 0.3 * checker
    assert wavelet_multiscale(smooth).roughness < 0.1 < 0.3 < wavelet_multiscale(rough).roughness
    # Haar with periodization is orthonormal: energies add up to the centred grid's energy
    res = wavelet_multiscale(rough, center=True)
    total = res.approximation_energy + sum(res.detail_energy.values())
    assert total == pytest.approx(((rough - rough.mean()) ** 2).sum())
    assert res.names()[0] == f"cA_{res.level}" and res.names()[-1] == "(cH_1, cV_1, cD_1)"
    assert res.level == 2 and set(res.details) == {1, 2} and res.approximation.shape == (8, 8)
    full = wavelet_multiscale(rough, level=None)
    assert full.level == 5 and full.roughness == pytest.approx(1.0)  # a centred 1×1 approximation is 0


def test_wavelet_bad_input():
    with pytest.raises(ValueError, match="2-D grid"):
        wavelet_multiscale(np.zeros(8))
    with pytest.raises(ValueError, match="unknown discrete wavelet"):
        wavelet_multiscale(np.zeros((8, 8)), wavelet="mexh")
    with pytest.raises(ValueError, match="level must be an int"):
        wavelet_multiscale(np.zeros((8, 8)), level=7)


# ---------------------------------------------------------------- roughness beyond smooth shape
from dldna_helpers.landscape import quadratic_fit, roughness  # noqa: E402

SIDE = np.linspace(-1, 1, 21)
XS, YS = np.meshgrid(SIDE, SIDE)


def test_any_quadratic_has_zero_roughness_where_haar_sees_slopes():
    rng = np.random.default_rng(0)
    for _ in range(5):
        a, b, c, d, e, f = rng.normal(size=6)
        z = a + b * XS + c * YS + 3 * d * XS ** 2 + e * XS * YS + f * YS ** 2
        assert roughness(z).value < 1e-20
        assert roughness(z, wavelet="haar").value > 1e-3    # one vanishing moment: slopes count
        fitted, r2 = quadratic_fit(z, SIDE, SIDE)
        assert r2 == pytest.approx(1.0) and np.allclose(fitted, z)


def test_roughness_grows_with_fine_scale_noise_and_stays_small_on_a_smooth_bowl():
    rng = np.random.default_rng(1)
    bowl = 1 - np.exp(-(XS ** 2 + 2 * YS ** 2) / (2 * 0.5 ** 2))
    noise = rng.standard_normal(bowl.shape)
    values = [roughness(bowl + s * noise).value for s in (0.0, 0.003, 0.01, 0.03)]
    assert values[0] < 1e-3 and all(a < b for a, b in zip(values, values[1:]))
    assert values[-1] > 5 * values[0]
    # white noise alone: level-1 details hold about 3/4 of its energy, of which the interior part
    # ((8 of 13 coefficients per side)² ≈ 0.38 of them) is counted
    assert 0.15 < roughness(noise).value < 0.45
    assert roughness(np.full((21, 21), 2.0)).value == 0.0
    assert quadratic_fit(bowl, SIDE, SIDE)[1] < 0.99


def test_roughness_and_quadratic_fit_bad_input():
    with pytest.raises(ValueError, match="2-D grid"):
        roughness(np.zeros(21))
    with pytest.raises(ValueError, match="nan or inf"):
        roughness(np.full((21, 21), np.nan))
    with pytest.raises(ValueError, match="unknown discrete wavelet"):
        roughness(np.zeros((21, 21)), wavelet="mexh")
    with pytest.raises(ValueError, match="too small"):
        roughness(np.zeros((5, 5)))
    with pytest.raises(ValueError, match="shape"):
        quadratic_fit(np.zeros((21, 20)), SIDE, SIDE)
    with pytest.raises(ValueError, match="at least 3 points"):
        quadratic_fit(np.zeros((2, 2)), SIDE[:2], SIDE[:2])
