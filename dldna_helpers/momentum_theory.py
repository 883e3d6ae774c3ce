"""Gradient descent and heavy-ball momentum on a quadratic f(x) = ½xᵀAx, solved exactly.

The update is the one of ``torch.optim.SGD`` and :class:`dldna_helpers.optim.SGD` without
dampening: ``v ← μ·v + g``, ``x ← x − η·v``, starting from ``v = 0`` (the first step's
buffer is the gradient itself). With g = Ax, every eigenvector of A (eigenvalue λ) is a
separate one-dimensional problem, and its state (z, u) — coordinate and velocity along that
eigenvector — evolves linearly::

    u' = μ·u + λ·z
    z' = z − η·u' = (1 − ηλ)·z − ημ·u        →  (z', u') = M (z, u),  M = [[1 − ηλ, −ημ], [λ, μ]]

M's characteristic polynomial is r² − (1 + μ − ηλ)·r + μ, so its eigenvalues multiply to μ.
The spectral radius of M is the factor by which that direction's error shrinks per step in
the long run (the convergence rate); the slowest direction sets the rate of the whole error.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = [
    "MONOTONE", "UNDERDAMPED", "ALTERNATING", "DIVERGENT", "REGIMES",
    "iteration_matrix", "convergence_rate", "regime", "worst_rate", "slowest_regime",
    "Tuning", "optimal_gd", "optimal_momentum", "measured_rate",
]

# How one eigendirection's error behaves (the codes :func:`regime` returns).
MONOTONE = 0      # real eigenvalues, the larger one positive: the error shrinks without oscillating
UNDERDAMPED = 1   # complex pair of modulus √μ: the error spirals in, oscillating around 0
ALTERNATING = 2   # real eigenvalues, the dominant one negative: the sign flips every step
DIVERGENT = 3     # spectral radius ≥ 1: the error does not shrink
REGIMES = {MONOTONE: "단조 감소", UNDERDAMPED: "과소 감쇠", ALTERNATING: "부호 교대", DIVERGENT: "발산"}


def _checked(lr, momentum, eigenvalue) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three arguments as float arrays, refused with a message naming what is allowed."""
    lr, momentum, eigenvalue = (np.asarray(a, dtype=float) for a in (lr, momentum, eigenvalue))
    if not (np.all(np.isfinite(lr)) and np.all(lr >= 0)):
        raise ValueError(f"lr must be finite and >= 0, got {lr!r}")
    if not (np.all(momentum >= 0) and np.all(momentum < 1)):
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if not (np.all(np.isfinite(eigenvalue)) and np.all(eigenvalue > 0)):
        raise ValueError(f"eigenvalues of A must be finite and > 0 (a positive definite quadratic), got {eigenvalue!r}")
    return lr, momentum, eigenvalue


def iteration_matrix(lr: float, momentum: float, eigenvalue: float) -> np.ndarray:
    """The 2×2 matrix M with (z_{t+1}, u_{t+1}) = M (z_t, u_t) along an eigenvector of eigenvalue λ."""
    eta, mu, lam = (float(a) for a in _checked(lr, momentum, eigenvalue))
    return np.array([[1.0 - eta * lam, -eta * mu], [lam, mu]])


def _roots(lr, momentum, eigenvalue) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(b, discriminant, μ) of r² − b·r + μ, broadcast over the arguments."""
    eta, mu, lam = _checked(lr, momentum, eigenvalue)
    b = 1.0 + mu - eta * lam
    return b, b * b - 4.0 * mu, mu


def convergence_rate(lr, momentum, eigenvalue) -> np.ndarray:
    """Spectral radius of :func:`iteration_matrix` (broadcasts over arrays): √μ for a complex
    pair, (|b| + √(b² − 4μ))/2 for real eigenvalues, with b = 1 + μ − ηλ."""
    b, disc, mu = _roots(lr, momentum, eigenvalue)
    real = (np.abs(b) + np.sqrt(np.maximum(disc, 0.0))) / 2.0
    return np.where(disc < 0, np.sqrt(mu), real)


def regime(lr, momentum, eigenvalue) -> np.ndarray:
    """:data:`MONOTONE`, :data:`UNDERDAMPED`, :data:`ALTERNATING` or :data:`DIVERGENT` per point."""
    b, disc, _ = _roots(lr, momentum, eigenvalue)
    rate = convergence_rate(lr, momentum, eigenvalue)
    kind = np.where(disc < 0, UNDERDAMPED, np.where(b >= 0, MONOTONE, ALTERNATING))
    return np.where(rate >= 1.0, DIVERGENT, kind).astype(int)


def _spectrum(eigenvalues: Sequence[float]) -> np.ndarray:
    lams = np.asarray(eigenvalues, dtype=float).ravel()
    if lams.size == 0:
        raise ValueError("eigenvalues is empty: give the eigenvalues of A")
    return lams


def worst_rate(lr, momentum, eigenvalues: Sequence[float]) -> np.ndarray:
    """Rate of the whole error: the largest :func:`convergence_rate` over A's ``eigenvalues``.

    ``lr`` and ``momentum`` may be arrays of one shape (a grid); the result has that shape.
    """
    lams = _spectrum(eigenvalues)
    lr, momentum = np.broadcast_arrays(np.asarray(lr, dtype=float), np.asarray(momentum, dtype=float))
    return np.max(convergence_rate(lr[..., None], momentum[..., None], lams), axis=-1)


def slowest_regime(lr, momentum, eigenvalues: Sequence[float]) -> np.ndarray:
    """:func:`regime` of the slowest eigendirection: how the whole error behaves in the long run."""
    lams = _spectrum(eigenvalues)
    lr, momentum = np.broadcast_arrays(np.asarray(lr, dtype=float), np.asarray(momentum, dtype=float))
    rates = convergence_rate(lr[..., None], momentum[..., None], lams)
    kinds = regime(lr[..., None], momentum[..., None], lams)
    return np.take_along_axis(kinds, np.argmax(rates, axis=-1)[..., None], axis=-1)[..., 0]


@dataclass(frozen=True)
class Tuning:
    """A learning rate, a momentum and the convergence rate they give on the quadratic."""

    lr: float
    momentum: float
    rate: float

    def steps_per_decade(self) -> float:
        """Steps that shrink the error tenfold at this rate: ln 10 / (−ln ρ)."""
        if not 0 < self.rate < 1:
            raise ValueError(f"rate {self.rate!r} does not converge; steps per decade need 0 < rate < 1")
        return float(np.log(10.0) / -np.log(self.rate))


def _extremes(lam_min: float, lam_max: float) -> tuple[float, float]:
    lo, hi = float(lam_min), float(lam_max)
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo <= hi):
        raise ValueError(f"need 0 < lam_min <= lam_max (finite), got lam_min={lam_min!r}, lam_max={lam_max!r}")
    return lo, hi


def optimal_gd(lam_min: float, lam_max: float) -> Tuning:
    """Best plain gradient descent: η = 2/(λmin + λmax), rate (κ − 1)/(κ + 1) with κ = λmax/λmin."""
    lo, hi = _extremes(lam_min, lam_max)
    kappa = hi / lo
    return Tuning(2.0 / (lo + hi), 0.0, (kappa - 1.0) / (kappa + 1.0))


def optimal_momentum(lam_min: float, lam_max: float) -> Tuning:
    """Best heavy ball (Polyak): η* = (2/(√λmax + √λmin))², μ* = ((√κ − 1)/(√κ + 1))², rate √μ*.

    At this pair both extreme directions sit exactly on the edge between real and complex
    eigenvalues (a double root, ±√μ*), so no direction is slower than √μ*.
    """
    lo, hi = _extremes(lam_min, lam_max)
    root_kappa = np.sqrt(hi / lo)
    mu = ((root_kappa - 1.0) / (root_kappa + 1.0)) ** 2
    return Tuning(float((2.0 / (np.sqrt(hi) + np.sqrt(lo))) ** 2), float(mu), float(np.sqrt(mu)))


def measured_rate(errors: Sequence[float], first: int, last: int, window: int = 20) -> float:
    """Per-step decay factor of a measured error curve between steps ``first`` and ``last``.

    An oscillating error touches 0 now and then, so the ratio of two single values says
    little; this uses the ratio of the maxima of |error| over ``window`` steps starting at
    ``first`` and at ``last``: (max|e[last:last+w]| / max|e[first:first+w]|)^(1/(last − first)).
    """
    e = np.abs(np.asarray(errors, dtype=float))
    if not (isinstance(window, int) and window >= 1):
        raise ValueError(f"window must be a positive int, got {window!r}")
    if not (isinstance(first, int) and isinstance(last, int) and 0 <= first < last and last + window <= e.size):
        raise ValueError(f"need 0 <= first < last and last + window <= {e.size} (the curve's length), "
                         f"got first={first!r}, last={last!r}, window={window!r}")
    early, late = e[first:first + window].max(), e[last:last + window].max()
    if not (np.isfinite(early) and np.isfinite(late)) or early == 0:
        raise ValueError(f"the error curve must be finite and nonzero at step {first}, got max {early!r} and {late!r}")
    return float((late / early) ** (1.0 / (last - first)))
