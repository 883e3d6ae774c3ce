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

    z = np.asarray(surface, dtype=float)
    if z.ndim != 2 or min(z.shape) < 2:
        raise ValueError(f"surface must be a 2-D grid with both sides >= 2, got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("surface contains nan or inf; evaluate the loss on a smaller region")
    if wavelet not in pywt.wavelist(kind="discrete"):
        raise ValueError(f"unknown discrete wavelet {wavelet!r}; e.g. 'haar', 'db2', 'sym4' (see pywt.wavelist())")
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
