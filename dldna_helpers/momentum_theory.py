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

Nesterov's momentum in ``torch.optim.SGD``'s form (``x ← x − η·(g + μ·v')``, ``nesterov=True``)
gives ``M = [[1 − ηλ(1 + μ), −ημ²], [λ, μ]]`` with characteristic polynomial
r² − (1 + μ)(1 − ηλ)·r + μ(1 − ηλ); every function below takes ``nesterov=True`` for it.

With noisy gradients g = λz + ξ (ξ of variance σ²) the error does not go to 0: it settles at a
noise floor, :func:`stationary_variance` (the fixed point of Σ = MΣMᵀ + σ²bbᵀ, b = (−η, 1)).
For small ηλ it depends on η and μ only through the effective learning rate η/(1 − μ).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = [
    "MONOTONE", "UNDERDAMPED", "ALTERNATING", "DIVERGENT", "REGIMES",
    "iteration_matrix", "convergence_rate", "regime", "worst_rate", "slowest_regime",
    "Tuning", "optimal_gd", "optimal_momentum", "optimal_nesterov", "measured_rate",
    "slowest_regimes", "stationary_variance", "effective_lr", "chain_quadratic",
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


def iteration_matrix(lr: float, momentum: float, eigenvalue: float, *, nesterov: bool = False) -> np.ndarray:
    """The 2×2 matrix M with (z_{t+1}, u_{t+1}) = M (z_t, u_t) along an eigenvector of eigenvalue λ."""
    eta, mu, lam = (float(a) for a in _checked(lr, momentum, eigenvalue))
    if nesterov:
        return np.array([[1.0 - eta * lam * (1.0 + mu), -eta * mu * mu], [lam, mu]])
    return np.array([[1.0 - eta * lam, -eta * mu], [lam, mu]])


def _roots(lr, momentum, eigenvalue, nesterov: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(b, discriminant, c) of M's characteristic polynomial r² − b·r + c, broadcast over the arguments."""
    eta, mu, lam = _checked(lr, momentum, eigenvalue)
    if nesterov:
        b, c = (1.0 + mu) * (1.0 - eta * lam), mu * (1.0 - eta * lam)
    else:
        b = 1.0 + mu - eta * lam
        c = mu + 0.0 * b
    return b, b * b - 4.0 * c, c


def convergence_rate(lr, momentum, eigenvalue, *, nesterov: bool = False) -> np.ndarray:
    """Spectral radius of :func:`iteration_matrix` (broadcasts over arrays): √c for a complex
    pair, (|b| + √(b² − 4c))/2 for real eigenvalues (heavy ball: b = 1 + μ − ηλ, c = μ)."""
    b, disc, c = _roots(lr, momentum, eigenvalue, nesterov)
    real = (np.abs(b) + np.sqrt(np.maximum(disc, 0.0))) / 2.0
    return np.where(disc < 0, np.sqrt(np.abs(c)), real)


_TIE = 1e-9   # relative size below which a discriminant counts as 0 and two rates as equal


def regime(lr, momentum, eigenvalue, *, nesterov: bool = False) -> np.ndarray:
    """:data:`MONOTONE`, :data:`UNDERDAMPED`, :data:`ALTERNATING` or :data:`DIVERGENT` per point."""
    b, disc, _ = _roots(lr, momentum, eigenvalue, nesterov)
    rate = convergence_rate(lr, momentum, eigenvalue, nesterov=nesterov)
    # a double root (discriminant 0 up to rounding) is real: the optimal pair puts both ends there
    complex_pair = disc < -_TIE * np.maximum(1.0, b * b)
    kind = np.where(complex_pair, UNDERDAMPED, np.where(b >= 0, MONOTONE, ALTERNATING))
    return np.where(rate >= 1.0, DIVERGENT, kind).astype(int)


def _spectrum(eigenvalues: Sequence[float]) -> np.ndarray:
    lams = np.asarray(eigenvalues, dtype=float).ravel()
    if lams.size == 0:
        raise ValueError("eigenvalues is empty: give the eigenvalues of A")
    return lams


def worst_rate(lr, momentum, eigenvalues: Sequence[float], *, nesterov: bool = False) -> np.ndarray:
    """Rate of the whole error: the largest :func:`convergence_rate` over A's ``eigenvalues``.

    ``lr`` and ``momentum`` may be arrays of one shape (a grid); the result has that shape.
    """
    lams = _spectrum(eigenvalues)
    lr, momentum = np.broadcast_arrays(np.asarray(lr, dtype=float), np.asarray(momentum, dtype=float))
    return np.max(convergence_rate(lr[..., None], momentum[..., None], lams, nesterov=nesterov), axis=-1)


def slowest_regime(lr, momentum, eigenvalues: Sequence[float], *, nesterov: bool = False) -> np.ndarray:
    """:func:`regime` of the slowest eigendirection: how the whole error behaves in the long run.

    Where several directions are equally slow (the optimal pair puts both ends at ρ*), the one
    with the largest eigenvalue is reported, so a tie never hides an alternating direction."""
    lams = _spectrum(eigenvalues)
    lr, momentum = np.broadcast_arrays(np.asarray(lr, dtype=float), np.asarray(momentum, dtype=float))
    rates = convergence_rate(lr[..., None], momentum[..., None], lams, nesterov=nesterov)
    kinds = regime(lr[..., None], momentum[..., None], lams, nesterov=nesterov)
    # the last of the (nearly) slowest directions in eigenvalue order
    slowest = rates >= rates.max(axis=-1, keepdims=True) * (1 - 1e-6)
    order = np.argsort(lams)
    last = len(lams) - 1 - np.argmax(slowest[..., order][..., ::-1], axis=-1)
    return np.take_along_axis(kinds[..., order], last[..., None], axis=-1)[..., 0]


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


def optimal_nesterov(lam_min: float, lam_max: float) -> Tuning:
    """Best Nesterov momentum on a quadratic (Lessard, Recht & Packard 2016): η = 4/(3λmax + λmin),
    μ = (√(3κ + 1) − 2)/(√(3κ + 1) + 2), rate 1 − 2/√(3κ + 1) — slower than heavy ball's best."""
    lo, hi = _extremes(lam_min, lam_max)
    root = np.sqrt(3.0 * hi / lo + 1.0)
    lr, mu = 4.0 / (3.0 * hi + lo), (root - 2.0) / (root + 2.0)
    return Tuning(float(lr), float(mu), float(worst_rate(lr, mu, [lo, hi], nesterov=True)))


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


def slowest_regimes(lr: float, momentum: float, eigenvalues: Sequence[float], *, nesterov: bool = False) -> list[int]:
    """The regimes of every eigendirection that is (up to rounding) the slowest, in eigenvalue
    order, without repeats: one code usually, two when directions tie (the optimal pair's ends)."""
    lams = np.sort(_spectrum(eigenvalues))
    rates = convergence_rate(float(lr), float(momentum), lams, nesterov=nesterov)
    kinds = regime(float(lr), float(momentum), lams, nesterov=nesterov)
    tied = kinds[rates >= rates.max() * (1 - 1e-6)]
    return list(dict.fromkeys(int(k) for k in tied))


def effective_lr(lr: float, momentum: float) -> float:
    """η/(1 − μ): the step of plain gradient descent that heavy ball matches where the gradient
    changes slowly (its velocity sums the geometric series g·(1 + μ + μ² + …))."""
    eta, mu, _ = _checked(lr, momentum, 1.0)
    return float(eta / (1.0 - mu))


def stationary_variance(lr: float, momentum: float, eigenvalue: float, noise_var: float = 1.0, *,
                        nesterov: bool = False) -> float:
    """E[z²] after many steps of (heavy-ball or Nesterov) momentum on f = ½λz² with gradients
    λz + ξ, ξ independent with variance ``noise_var``: the noise floor, from the discrete Lyapunov
    equation Σ = MΣMᵀ + σ²·bbᵀ (b = (−η, 1) for heavy ball; Nesterov's noise enters as (−η(1 + μ), 1)).

    Heavy ball's closed form is ησ²(1 + μ)/(λ(1 − μ)(2(1 + μ) − ηλ)) ≈ η/(1 − μ) · σ²/(2λ) for small ηλ.
    Diverging settings (rate ≥ 1) have no floor and raise a ValueError."""
    from scipy.linalg import solve_discrete_lyapunov

    if not (np.isfinite(noise_var) and noise_var >= 0):
        raise ValueError(f"noise_var must be finite and >= 0, got {noise_var!r}")
    if float(convergence_rate(lr, momentum, eigenvalue, nesterov=nesterov)) >= 1.0:
        raise ValueError(f"lr={lr}, momentum={momentum} diverge at eigenvalue {eigenvalue}: no noise floor")
    eta, mu = float(lr), float(momentum)
    M = iteration_matrix(eta, mu, eigenvalue, nesterov=nesterov)
    b = np.array([-eta * (1.0 + mu) if nesterov else -eta, 1.0])
    sigma = solve_discrete_lyapunov(M, noise_var * np.outer(b, b))
    return float(sigma[0, 0])


def chain_quadratic(n: int, kappa: float) -> tuple[np.ndarray, np.ndarray]:
    """(A, b) of Nesterov's worst-case quadratic f(x) = ½xᵀAx − bᵀx in ``n`` dimensions, scaled so
    that its eigenvalues lie in [1, κ] (Distill's "convex Rosenbrock"): A = I + (κ − 1)/4 · T with T the
    tridiagonal matrix (2, −1), b = (κ − 1)/4 · e₁. A first-order method started at 0 reaches
    coordinate t only at step t, and x*_i ≈ qⁱ with q = (√κ − 1)/(√κ + 1), so after t steps the error is
    at least the tail ‖x*_{>t}‖ ∝ qᵗ — the rate of optimally tuned heavy ball."""
    if not (isinstance(n, int) and n >= 2):
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    if not (np.isfinite(kappa) and kappa > 1):
        raise ValueError(f"kappa must be a finite number > 1, got {kappa!r}")
    scale = (kappa - 1.0) / 4.0
    tri = 2.0 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    b = np.zeros(n)
    b[0] = scale
    return np.eye(n) + scale * tri, b
