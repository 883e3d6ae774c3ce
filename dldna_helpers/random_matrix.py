"""The Marchenko–Pastur law: where the singular values of a Gaussian random matrix lie (section 5.1).

For a rows × cols matrix W with independent entries of mean 0 and standard deviation ``std``,
let m = max(rows, cols), k = min(rows, cols) and the aspect ratio λ = k/m ∈ (0, 1]. As both
sizes grow with λ fixed, the eigenvalues x of W Wᵀ/(m·std²) (or Wᵀ W, whichever is k × k)
follow the density

    f_λ(x) = √((x₊ − x)(x − x₋)) / (2π λ x)   on [x₋, x₊],  x± = (1 ± √λ)²

(Marčenko & Pastur, 1967). The singular values σ = std·√(m x) of W then lie in
std·√m·[1 − √λ, 1 + √λ]: spread out, and reaching down to 0 for a square matrix (λ = 1).
"""
from __future__ import annotations

import math

import numpy as np


def _check_ratio(ratio: float) -> float:
    if not (isinstance(ratio, (int, float)) and 0 < ratio <= 1):
        raise ValueError(f"ratio must be min(rows, cols)/max(rows, cols), a number in (0, 1], got {ratio!r}")
    return float(ratio)


def marchenko_pastur_support(ratio: float) -> tuple[float, float]:
    """(x₋, x₊) = ((1 − √λ)², (1 + √λ)²): where the eigenvalue density is positive."""
    root = math.sqrt(_check_ratio(ratio))
    return (1 - root) ** 2, (1 + root) ** 2


def marchenko_pastur_pdf(x: np.ndarray | float, ratio: float) -> np.ndarray:
    """Density f_λ(x) of the eigenvalues of W Wᵀ/(m·std²); 0 outside the support.

    At λ = 1 the density grows like 1/√x near 0 (integrable) and is infinite at x = 0 itself.
    """
    lam = _check_ratio(ratio)
    low, high = marchenko_pastur_support(lam)
    x = np.asarray(x, dtype=np.float64)
    inside = (x > low) & (x < high)
    safe = np.where(inside, x, 1.0)   # keeps the formula away from 0 and from negative roots
    density = np.sqrt(np.clip((high - safe) * (safe - low), 0.0, None)) / (2 * math.pi * lam * safe)
    return np.where(inside, density, 0.0)


def _check_shape(rows: int, cols: int, std: float) -> None:
    for name, n in (("rows", rows), ("cols", cols)):
        if not (isinstance(n, int) and not isinstance(n, bool) and n >= 1):
            raise ValueError(f"{name} must be a positive int, got {n!r}")
    if not (isinstance(std, (int, float)) and math.isfinite(std) and std > 0):
        raise ValueError(f"std must be a finite positive number, got {std!r}")


def singular_value_edges(rows: int, cols: int, std: float) -> tuple[float, float]:
    """The predicted smallest and largest singular value, std·√m·(1 ∓ √λ)."""
    _check_shape(rows, cols, std)
    m, k = max(rows, cols), min(rows, cols)
    root = math.sqrt(k / m)
    return std * math.sqrt(m) * (1 - root), std * math.sqrt(m) * (1 + root)


def singular_value_pdf(s: np.ndarray | float, rows: int, cols: int, std: float) -> np.ndarray:
    """Predicted density of the singular values of a rows × cols matrix with i.i.d. entries of ``std``.

    The change of variables x = t², t = s/(std·√m), turns f_λ(x) dx into
    √((x₊ − t²)(t² − x₋)) / (π λ t) dt, which stays finite: for a square matrix (x₋ = 0) it is
    the quarter circle √(4 − t²)/π. Negative ``s`` has density 0.
    """
    _check_shape(rows, cols, std)
    m, k = max(rows, cols), min(rows, cols)
    lam = k / m
    low, high = marchenko_pastur_support(lam)
    unit = std * math.sqrt(m)
    t = np.asarray(s, dtype=np.float64) / unit
    t2 = t * t
    if k == m:   # x₋ = 0: the factor √(t²)/t is 1, and t = 0 lies inside the support
        inside = (t >= 0) & (t2 < high)
        density = np.sqrt(np.clip(high - t2, 0.0, None)) / math.pi
    else:
        inside = (t2 > low) & (t2 < high)
        safe = np.where(inside, t, 1.0)
        density = np.sqrt(np.clip((high - safe**2) * (safe**2 - low), 0.0, None)) / (math.pi * lam * safe)
    return np.where(inside, density, 0.0) / unit
