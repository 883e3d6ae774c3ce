"""The whole Hessian spectrum at once: eigenvalue density by stochastic Lanczos quadrature (SLQ).

For a symmetric H (n × n) with eigenpairs (λ_i, u_i) and a unit vector v, m Lanczos steps from v
give a tridiagonal T_m with eigenpairs (θ_k, s_k). Gauss quadrature says

    vᵀ f(H) v = Σ_i (vᵀu_i)² f(λ_i) ≈ Σ_k (s_k[0])² f(θ_k),

exact for every polynomial f of degree up to 2m − 1 (Golub & Welsch, 1969). With a Rademacher
probe v/√n the weights (vᵀu_i)² average to 1/n, so the nodes θ_k with weights τ_k = s_k[0]²,
averaged over a few probes, approximate the spectral measure (1/n) Σ_i δ(t − λ_i); smoothed with
a Gaussian of width σ they give a density (Lin, Saad & Yang, 2016; Ghorbani, Krishnan & Xiao,
2019; PyHessian's ``density()``, which calls the removed ``torch.eig`` on current torch).

The extreme nodes of each run converge first (they are Ritz values of a Lanczos run), so the same
runs give λ_max and λ_min with a residual bound ‖Hy − θy‖ each: there is an eigenvalue of H
within that distance of θ.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from ._common import as_batches, model_device, params_of
from .hessian import HessianOperator, _eval_mode, _ritz, lanczos_steps

__all__ = ["LanczosQuadrature", "SpectralDensity", "lanczos_quadrature", "hessian_spectrum"]


@dataclass(frozen=True)
class LanczosQuadrature:
    """One probe's quadrature: ``nodes`` θ_k (ascending), ``weights`` τ_k (sum 1) and each node's
    Ritz residual ‖Hy_k − θ_k y_k‖ (a bound on the distance to the nearest eigenvalue)."""

    nodes: np.ndarray
    weights: np.ndarray
    residuals: np.ndarray


def lanczos_quadrature(hvp: Callable[[torch.Tensor], torch.Tensor], n: int, steps: int, *, seed: int = 0,
                       device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> LanczosQuadrature:
    """``steps`` Lanczos steps of the operator ``hvp`` (size ``n``) from a Rademacher probe
    drawn with ``seed``, as Gauss quadrature nodes and weights (module doc)."""
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    steps = min(steps, n)
    gen = torch.Generator().manual_seed(seed)
    probe = (torch.randint(0, 2, (n,), generator=gen) * 2 - 1).to(device=device, dtype=dtype) / math.sqrt(n)
    basis = torch.zeros(steps, n, device=device, dtype=dtype)
    alphas, betas = [], []
    for alpha, beta in lanczos_steps(hvp, probe, basis):
        alphas.append(alpha)
        betas.append(beta)
    theta, s = _ritz(alphas, betas[:-1])
    weights = (s[0] ** 2).numpy()
    residuals = (betas[-1] * s[-1].abs()).numpy()
    return LanczosQuadrature(theta.numpy(), weights / weights.sum(), residuals)


@dataclass(frozen=True)
class SpectralDensity:
    """The spectrum of a Hessian of dimension ``dim`` as seen by several Lanczos quadratures."""

    runs: tuple[LanczosQuadrature, ...]
    dim: int

    def density(self, grid: np.ndarray, sigma: float) -> np.ndarray:
        """The eigenvalue density on ``grid``: Σ_k τ_k N(t; θ_k, σ²) averaged over the probes
        (integrates to 1; a fraction p of the eigenvalues near t adds about p/(σ√2π) there)."""
        if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a positive number, got {sigma!r}")
        t = np.asarray(grid, dtype=float)[:, None]
        total = np.zeros(t.shape[0])
        for run in self.runs:
            kernel = np.exp(-0.5 * ((t - run.nodes[None, :]) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
            total += kernel @ run.weights
        return total / len(self.runs)

    def fraction_below(self, threshold: float) -> float:
        """The estimated fraction of eigenvalues below ``threshold`` (weights of the nodes below it)."""
        return float(np.mean([run.weights[run.nodes < threshold].sum() for run in self.runs]))

    def trace(self) -> float:
        """tr(H) ≈ n · mean over probes of Σ τ_k θ_k (Hutchinson's estimate with the same probes)."""
        return self.dim * float(np.mean([run.weights @ run.nodes for run in self.runs]))

    def extreme(self, which: str) -> tuple[float, float]:
        """``("max" or "min")``: the largest (smallest) node over the probes and its Ritz residual."""
        if which not in ("max", "min"):
            raise ValueError(f"which must be 'max' or 'min', got {which!r}")
        pick = [(run.nodes[-1], run.residuals[-1]) if which == "max" else (run.nodes[0], run.residuals[0])
                for run in self.runs]
        value, residual = max(pick) if which == "max" else min(pick)
        return float(value), float(residual)

    def top(self, k: int) -> list[float]:
        """The ``k`` largest nodes of the first probe's run (converged outliers: check residuals)."""
        return [float(v) for v in self.runs[0].nodes[::-1][:k]]


def hessian_spectrum(model: nn.Module, loss_fn: Callable, data: Any, steps: int = 80, probes: int = 1,
                     seed: int = 0) -> SpectralDensity:
    """SLQ of the Hessian of the mean loss over ``data``: ``probes`` Lanczos runs of ``steps`` steps
    each, from Rademacher probes drawn with ``seed``, ``seed + 1``, …"""
    if not isinstance(probes, int) or isinstance(probes, bool) or probes < 1:
        raise ValueError(f"probes must be a positive int, got {probes!r}")
    device = model_device(model)
    batches = as_batches(data, device)
    with _eval_mode(model):
        op = HessianOperator(model, loss_fn, batches)
        dtype = next(p for p in params_of(model) if p.requires_grad).dtype
        runs = tuple(lanczos_quadrature(op, op.n, steps, seed=seed + i, device=device, dtype=dtype)
                     for i in range(probes))
    return SpectralDensity(runs, op.n)
