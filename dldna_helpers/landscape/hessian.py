"""Curvature of the loss: top Hessian eigenpairs (PyHessian's power iteration, or our Lanczos
with full reorthogonalisation) and the Hessian trace by Hutchinson's estimator.

Everything works with Hessian-vector products from double backward (Pearlmutter's trick): the
Hessian itself, n² numbers, is never formed. The model is evaluated in eval mode (BatchNorm uses
its running statistics, dropout is off) and put back in its previous mode afterwards.
"""
from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import torch
from torch import nn

from ._common import Batches, as_batches, model_device, params_of

METHODS = ("pyhessian", "lanczos")
Eigenpairs = tuple[list[float], list[list[torch.Tensor]]]


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


class HessianOperator:
    """v ↦ H v for the mean loss over ``batches`` (flat vectors over the trainable parameters).

    The gradient graph of every batch is built once and kept (``retain_graph``), so each product
    costs one extra backward pass per batch. Memory grows with the data: pass a subset.
    """

    def __init__(self, model: nn.Module, loss_fn: Callable, batches: Batches) -> None:
        self.params = [p for p in params_of(model) if p.requires_grad]
        if not self.params:
            raise ValueError("the model has no trainable parameters (requires_grad=False everywhere)")
        self.n = sum(p.numel() for p in self.params)
        total = sum(len(y) for _, y in batches)
        self.grads: list[tuple[float, torch.Tensor]] = []
        for x, y in batches:
            loss = loss_fn(model(x), y)
            grads = torch.autograd.grad(loss, self.params, create_graph=True, allow_unused=True)
            flat = torch.cat([
                (g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, self.params)
            ])
            self.grads.append((len(y) / total, flat))
        self.calls = 0

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        out = torch.zeros_like(v)
        for weight, flat in self.grads:
            if not flat.requires_grad:  # the loss does not depend on the parameters at all
                continue
            hv = torch.autograd.grad(flat, self.params, grad_outputs=v, retain_graph=True, allow_unused=True)
            out += weight * torch.cat([
                (h if h is not None else torch.zeros_like(p)).reshape(-1) for h, p in zip(hv, self.params)
            ])
        return out

    def unflatten(self, model: nn.Module, v: torch.Tensor) -> list[torch.Tensor]:
        """A flat vector as tensors shaped like ``model.parameters()`` (zeros for frozen ones)."""
        out, i = [], 0
        for p in params_of(model):
            if p.requires_grad:
                out.append(v[i:i + p.numel()].view_as(p).detach().clone())
                i += p.numel()
            else:
                out.append(torch.zeros_like(p))
        return out


def _check_k(k: Any, n: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive int (number of eigenpairs), got {k!r}")
    if k > n:
        raise ValueError(f"k={k} exceeds the number of trainable parameters ({n})")
    return k


def lanczos(
    hvp: Callable[[torch.Tensor], torch.Tensor],
    n: int,
    k: int,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    seed: int = 0,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """The ``k`` eigenpairs of largest magnitude of a symmetric operator given by ``hvp``.

    Lanczos builds an orthonormal basis Q of the Krylov space span{q, Hq, H²q, …} in which H is
    tridiagonal (T = QᵀHQ); the eigenpairs of the small T (Ritz pairs) approximate the extreme
    eigenpairs of H. Every new vector is orthogonalised against all previous ones (twice), which
    prevents the ghost copies of converged eigenvalues that plain Lanczos produces in floating
    point. Stops when the residual ‖Hy − θy‖ = β·|last entry of the Ritz vector| of each wanted
    pair is below ``tol``·|θ_max|. Returns eigenvalues (sorted by magnitude, descending), the
    eigenvectors as columns, and whether it converged.
    """
    m_max = min(n, max_iter)
    if m_max < k:
        raise ValueError(f"max_iter={max_iter} must be at least k={k}")
    basis = torch.zeros(m_max, n, device=device, dtype=dtype)
    alphas: list[float] = []
    betas: list[float] = []
    converged = False
    for alpha, beta in lanczos_steps(hvp, random_start(n, seed, device, dtype), basis):
        alphas.append(alpha)
        j = len(alphas) - 1
        theta, s = _ritz(alphas, betas)
        if j + 1 >= k:
            order = torch.argsort(theta.abs(), descending=True)[:k]
            residual = beta * s[-1, order].abs()
            if bool((residual <= tol * theta.abs().max()).all()):
                converged = True
                break
        if beta <= 1e-12 * max(1.0, abs(alpha)):  # invariant subspace: the Ritz pairs are exact
            converged = j + 1 >= k
            break
        betas.append(beta)
    m = len(alphas)
    theta, s = _ritz(alphas, betas[: m - 1])
    order = torch.argsort(theta.abs(), descending=True)[:k]
    vectors = basis[:m].T @ s[:, order].to(device=device, dtype=dtype)
    # the norm in float64: a float32 reduction over 10⁵ strided entries is off by ~1e-4
    vectors /= torch.linalg.vector_norm(vectors.double(), dim=0, keepdim=True).to(dtype)
    return theta[order], vectors, converged


def random_start(n: int, seed: int, device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A unit vector of length ``n`` in a random direction (Gaussian, drawn on the CPU from ``seed``)."""
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(n, generator=gen, dtype=torch.float64).to(device=device, dtype=dtype)
    return q / torch.linalg.vector_norm(q)


def lanczos_steps(
    hvp: Callable[[torch.Tensor], torch.Tensor], start: torch.Tensor, basis: torch.Tensor
) -> Iterator[tuple[float, float]]:
    """The Lanczos recurrence from the unit vector ``start``: yields ``(α_j, β_j)`` after step j,
    the diagonal entry of the tridiagonal matrix T = QᵀHQ and the norm of what is left (the next
    off-diagonal entry; near 0 when the Krylov space is invariant).

    Row j of ``basis`` (shape (m, n)) receives the j-th basis vector; the recurrence ends after m
    steps or earlier when the caller stops iterating. Every new vector is orthogonalised against
    all previous ones, twice ("twice is enough"): plain Lanczos loses orthogonality in floating
    point and then finds ghost copies of converged eigenvalues.
    """
    q = start
    for j in range(basis.shape[0]):
        basis[j] = q
        w = hvp(q)
        alpha = float(torch.dot(q, w))
        for _ in range(2):
            w -= basis[: j + 1].T @ (basis[: j + 1] @ w)
        beta = float(torch.linalg.vector_norm(w))
        yield alpha, beta
        if beta <= 1e-12 * max(1.0, abs(alpha)):
            return
        q = w / beta


def _ritz(alphas: list[float], betas: list[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenpairs of the tridiagonal matrix with diagonal ``alphas`` and off-diagonal ``betas``."""
    t = torch.diag(torch.tensor(alphas, dtype=torch.float64))
    if betas:
        off = torch.tensor(betas[: len(alphas) - 1], dtype=torch.float64)
        t += torch.diag(off, 1) + torch.diag(off, -1)
    return torch.linalg.eigh(t)


def hessian_top_eigen(
    model: nn.Module,
    loss_fn: Callable,
    data: Any,
    k: int = 2,
    method: str = "pyhessian",
    *,
    max_iter: int | None = None,
    tol: float | None = None,
    seed: int = 0,
) -> Eigenpairs:
    """The ``k`` Hessian eigenvalues of largest magnitude and their eigenvectors.

    Eigenvalues are signed and sorted by magnitude (what power iteration finds first comes
    first); each eigenvector is a list of unit-norm-overall tensors shaped like
    ``model.parameters()``. ``method="pyhessian"`` runs PyHessian's power iteration with
    deflation (Yao et al., 2020): ``max_iter`` iterations per eigenvalue (default 1000) and a
    relative tolerance ``tol`` on successive eigenvalue estimates (default 1e-6).
    ``method="lanczos"`` runs :func:`lanczos` (defaults: 200 iterations in total, residual
    tolerance 1e-6). Works on CPU and GPU; ``seed`` fixes the random start vector.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    device = model_device(model)
    batches = as_batches(data, device)
    trainable = [p for p in params_of(model) if p.requires_grad]
    _check_k(k, sum(p.numel() for p in trainable))
    with _eval_mode(model):
        if method == "lanczos":
            op = HessianOperator(model, loss_fn, batches)
            vals, vecs, ok = lanczos(
                op, op.n, k, max_iter=max_iter or 200, tol=tol or 1e-6, seed=seed,
                device=device, dtype=trainable[0].dtype,
            )
            if not ok:
                warnings.warn(f"Lanczos did not reach tol={tol or 1e-6} in {max_iter or 200} iterations", stacklevel=2)
            return [float(v) for v in vals], [op.unflatten(model, vecs[:, i].contiguous()) for i in range(k)]
        return _pyhessian_top(model, loss_fn, batches, k, max_iter or 1000, tol or 1e-6, seed)


def _unused_params(model: nn.Module, loss_fn: Callable, batches: Batches) -> list[nn.Parameter]:
    """Trainable parameters the loss does not depend on: no gradient on any batch.

    PyHessian stores a float 0 as their gradient and then fails inside autograd. Their rows and
    columns of the Hessian are zero, so they can be left out of its run (as frozen ones are) and
    get zero eigenvector entries; a parameter used by some batches only cannot, and is refused.
    """
    trainable = [p for p in params_of(model) if p.requires_grad]
    used = [0] * len(trainable)
    for x, y in batches:
        loss = loss_fn(model(x), y)
        if not loss.requires_grad:  # no parameter at all on this batch
            continue
        grads = torch.autograd.grad(loss, trainable, allow_unused=True)
        used = [n + (g is not None) for n, g in zip(used, grads)]
    names = {p: name for name, p in model.named_parameters()}
    partly = [names.get(p, "?") for p, n in zip(trainable, used) if 0 < n < len(batches)]
    if partly:
        raise ValueError(f"parameters {partly} affect the loss on some batches only, which PyHessian cannot "
                         "handle; use method='lanczos'")
    if not any(used):
        raise ValueError("the loss does not depend on any trainable parameter: its Hessian is zero")
    return [p for p, n in zip(trainable, used) if n == 0]


def _pyhessian_top(model: nn.Module, loss_fn: Callable, batches: Batches, k: int, max_iter: int, tol: float,
                   seed: int) -> Eigenpairs:
    from pyhessian import hessian as PyHessian

    device = model_device(model)
    params = params_of(model)
    unused = _unused_params(model, loss_fn, batches)
    left_out = {id(p) for p in unused}
    in_run = [p.requires_grad and id(p) not in left_out for p in params]  # the parameters PyHessian sees
    _check_k(k, sum(p.numel() for p, seen in zip(params, in_run) if seen))
    saved_grads = [p.grad for p in params]
    try:
        for p in unused:
            p.requires_grad_(False)
        source = {"data": batches[0]} if len(batches) == 1 else {"dataloader": batches}
        with warnings.catch_warnings():
            # PyHessian builds its gradient graph with backward(create_graph=True), once here for one
            # batch and in every product for several; the cycle it warns about is broken in the
            # finally block below, where the old .grad fields are restored
            warnings.filterwarnings("ignore", message="Using backward\\(\\) with create_graph=True")
            engine = PyHessian(model, loss_fn, cuda=(device.type == "cuda"), **source)
            # PyHessian draws its start vectors from torch's global generator: seed a private fork
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                torch.manual_seed(seed)
                vals, vecs = engine.eigenvalues(maxIter=max_iter, tol=tol, top_n=k)
    finally:
        # PyHessian leaves gradients with an autograd graph attached in .grad: put the old ones back
        for p, g in zip(params, saved_grads):
            p.grad = g
        for p in unused:
            p.requires_grad_(True)
    order = sorted(range(k), key=lambda i: -abs(vals[i]))
    result = []
    for i in order:
        flat = [t.detach() for t in vecs[i]]
        norm = math.sqrt(sum(float((t.double() ** 2).sum()) for t in flat))
        parts, j = [], 0
        for p, seen in zip(params, in_run):
            if seen:
                parts.append((flat[j] / norm).to(p.dtype).view_as(p).clone())
                j += 1
            else:
                parts.append(torch.zeros_like(p))
        result.append(parts)
    return [float(vals[i]) for i in order], result


def hessian_trace(
    model: nn.Module, loss_fn: Callable, data: Any, n_samples: int = 100, seed: int = 0
) -> tuple[float, float]:
    """Hutchinson's estimate of tr(H) and its standard error.

    For a random vector z with independent ±1 entries (Rademacher), E[zᵀHz] = tr(H)
    (Hutchinson, 1990). The estimate is the mean of ``n_samples`` such products; the standard
    error is their sample standard deviation divided by √n_samples.
    """
    if not isinstance(n_samples, int) or n_samples < 2:
        raise ValueError(f"n_samples must be an int >= 2 (a standard error needs two samples), got {n_samples!r}")
    device = model_device(model)
    batches = as_batches(data, device)
    with _eval_mode(model):
        op = HessianOperator(model, loss_fn, batches)
        gen = torch.Generator().manual_seed(seed)
        dtype = op.params[0].dtype
        samples = []
        for _ in range(n_samples):
            z = (torch.randint(0, 2, (op.n,), generator=gen) * 2 - 1).to(device=device, dtype=dtype)
            samples.append(float(torch.dot(z, op(z))))
    t = torch.tensor(samples, dtype=torch.float64)
    return float(t.mean()), float(t.std(unbiased=True) / math.sqrt(n_samples))
