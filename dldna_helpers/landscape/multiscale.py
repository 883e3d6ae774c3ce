"""Multiscale view of a loss grid: a 2-D discrete wavelet decomposition (PyWavelets).

``pywt.wavedec2`` returns ``[cA_n, (cH_n, cV_n, cD_n), …, (cH_1, cV_1, cD_1)]``: the
approximation at the coarsest level n and, for every level, horizontal, vertical and diagonal
detail coefficients; level 1 is the finest. Detail coefficients measure how much the surface
changes at that scale; they are not loss values.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Multiscale:
    """Result of :func:`wavelet_multiscale`.

    ``approximation`` is cA_n; ``details[level]`` is the tuple (cH, cV, cD) of that level
    (1 = finest); ``detail_energy[level]`` the sum of their squares; ``roughness`` the share of
    the total coefficient energy held by all detail coefficients (0: no variation beyond the
    coarsest average, 1: all variation at the detail scales).
    """

    wavelet: str
    level: int
    approximation: np.ndarray
    details: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
    approximation_energy: float
    detail_energy: dict[int, float]
    roughness: float

    def names(self) -> list[str]:
        """PyWavelets' names of the parts, coarsest first."""
        return [f"cA_{self.level}"] + [f"(cH_{j}, cV_{j}, cD_{j})" for j in range(self.level, 0, -1)]

    def magnitude(self, level: int) -> np.ndarray:
        """sqrt(cH² + cV² + cD²) at one level: how strongly the surface varies at that scale."""
        h, v, d = self.details[level]
        return np.sqrt(h**2 + v**2 + d**2)


def _checked_grid(surface: np.ndarray, wavelet: str) -> np.ndarray:
    """``surface`` as a finite 2-D float grid, and ``wavelet`` a discrete PyWavelets name."""
    import pywt

    z = np.asarray(surface, dtype=float)
    if z.ndim != 2 or min(z.shape) < 2:
        raise ValueError(f"surface must be a 2-D grid with both sides >= 2, got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("surface contains nan or inf; evaluate the loss on a smaller region")
    if wavelet not in pywt.wavelist(kind="discrete"):
        raise ValueError(f"unknown discrete wavelet {wavelet!r}; e.g. 'haar', 'db2', 'sym4' (see pywt.wavelist())")
    return z


def wavelet_multiscale(surface: np.ndarray, wavelet: str = "haar", level: int | None = 2,
                       center: bool = True) -> Multiscale:
    """Decompose a 2-D grid with ``pywt.wavedec2`` (``mode="periodization"``) into ``level`` levels.

    With ``center`` (default) the grid's mean is removed first, so that the roughness describes
    the shape of the surface and not how high the loss happens to be. The default ``level=2``
    keeps a coarse approximation (a quarter of the grid's resolution per side) that still draws
    the overall shape, so the roughness is the share of the variation at scales of up to four
    grid steps. (Decomposing all the way down leaves a 1×1 approximation, the mean, which is zero
    after centring: every surface would get roughness 1.) ``level=None`` uses the largest level
    the grid allows. The Haar wavelet with periodization is orthonormal: the coefficient
    energies add up to the energy of the (centred) grid when its sides are powers of two. On
    a side of odd length PyWavelets repeats the last sample, so the last detail coefficient along
    that side is zero: an edge effect of the transform, not a property of the surface.
    """
    import pywt

    z = _checked_grid(surface, wavelet)
    max_level = pywt.dwt_max_level(min(z.shape), pywt.Wavelet(wavelet).dec_len)
    if level is None:
        level = max(1, max_level)
    if not isinstance(level, int) or not 1 <= level <= max(1, max_level):
        raise ValueError(f"level must be an int in [1, {max(1, max_level)}] for a {z.shape} grid, got {level!r}")
    if center:
        z = z - z.mean()
    coeffs = pywt.wavedec2(z, wavelet, mode="periodization", level=level)
    approx = coeffs[0]
    details = {level - i: tuple(c) for i, c in enumerate(coeffs[1:])}
    detail_energy = {j: float(sum((c**2).sum() for c in cs)) for j, cs in details.items()}
    a_energy = float((approx**2).sum())
    total = a_energy + sum(detail_energy.values())
    roughness = sum(detail_energy.values()) / total if total > 0 else 0.0
    return Multiscale(wavelet, level, approx, details, a_energy, detail_energy, roughness)


def quadratic_fit(surface: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, float]:
    """The least-squares quadratic a + bx + cy + dx² + exy + fy² on the grid (indexed ``[y, x]``)
    and its coefficient of determination R²."""
    z = np.asarray(surface, dtype=float)
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if z.ndim != 2 or z.shape != (ys.size, xs.size):
        raise ValueError(f"surface must have shape (len(ys), len(xs)) = {(ys.size, xs.size)}, got {z.shape}")
    if min(z.shape) < 3:
        raise ValueError(f"a quadratic in x and y needs at least 3 points per side, got {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("surface contains nan or inf")
    x, y = np.meshgrid(xs, ys)
    design = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1).reshape(-1, 6)
    coef, *_ = np.linalg.lstsq(design, z.ravel(), rcond=None)
    fitted = (design @ coef).reshape(z.shape)
    total = float(((z - z.mean()) ** 2).sum())
    r2 = 1.0 - float(((z - fitted) ** 2).sum()) / total if total > 0 else 1.0
    return fitted, r2


def _interior(n: int, wavelet: str) -> np.ndarray:
    """Which level-1 coefficients of a length-``n`` signal see no sample of the boundary
    extension: those whose value does not change when the extension changes."""
    import pywt

    ones = np.ones(n)
    zero_ext = pywt.dwt(ones, wavelet, mode="zero")[1]
    const_ext = pywt.dwt(ones, wavelet, mode="constant")[1]
    return np.isclose(zero_ext, const_ext, rtol=0, atol=1e-12)


@dataclass
class Roughness:
    """Result of :func:`roughness`: the share ``value`` (R), the interior level-1 detail
    coefficients ``details`` = (cH_1, cV_1, cD_1) and the wavelet used."""

    value: float
    details: tuple[np.ndarray, np.ndarray, np.ndarray]
    wavelet: str


def roughness(surface: np.ndarray, wavelet: str = "db3") -> Roughness:
    """How rough a loss grid is beyond any smooth, locally quadratic shape.

    A wavelet with p vanishing moments has detail coefficients that are exactly 0 on every
    polynomial of degree below p. Haar has one: its details respond to every slope, so even a
    perfectly smooth paraboloid sampled on a 21×21 grid puts about 9% of its energy into them.
    Daubechies' ``db3`` has three: its finest details (level 1) vanish on any quadratic and stay
    small on shapes that are broad compared with the grid step; what is left is variation at the
    scale of one or two grid steps that no local quadratic describes. R is the energy of those
    coefficients (interior ones only: those near the edge see the boundary extension, not the
    surface) as a share of the centred grid's energy.
    """
    import pywt

    z = _checked_grid(surface, wavelet)
    rows, cols = _interior(z.shape[0], wavelet), _interior(z.shape[1], wavelet)
    if not rows.any() or not cols.any():
        raise ValueError(f"a {z.shape} grid is too small for {wavelet!r}: no level-1 coefficient lies inside it")
    _, (ch, cv, cd) = pywt.dwt2(z, wavelet, mode="symmetric")
    inside = tuple(c[np.ix_(rows, cols)] for c in (ch, cv, cd))
    total = float(((z - z.mean()) ** 2).sum())
    value = float(sum((c ** 2).sum() for c in inside)) / total if total > 0 else 0.0
    return Roughness(value, inside, wavelet)
