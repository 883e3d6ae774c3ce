"""Adafactor (Shazeer & Stern 2018): a factored second moment, update clipping and relative step sizes."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from ._checks import check_flag, check_grads, check_lr, check_range
from ._closure import evaluate_closure


class Adafactor(torch.optim.Optimizer):
    """Adafactor with the semantics of ``torch.optim.Adafactor`` (no first moment, β1 = 0).

    For a matrix gradient ``G`` (n×m) it keeps only the row means ``r`` (n) and column means ``c`` (m)
    of ``G²`` and rebuilds ``V̂ = r·cᵀ / mean(r)``; vectors keep a full ``v``. Per step ``t``:

    - ``β̂2 = 1 − t^beta2_decay`` (a decay that grows towards 1), EMAs of ``r``, ``c`` (or ``v``);
    - ``U = G / √max(V̂, eps1²)``, clipped: ``Û = U / max(1, RMS(U)/d)``;
    - relative step size ``α = max(eps2, RMS(θ)) · min(lr, 1/√t)``, ``θ ← θ·(1 − lr·λ) − α·Û``.

    Two details differ from the paper (as in PyTorch): ``eps1`` bounds ``V̂`` from below instead of
    being added to ``G²``, and ``lr`` (default 0.01, the paper's constant) caps the relative step and
    scales the weight decay. Means instead of the paper's sums give the same ``V̂``.
    ``maximize=True`` climbs the objective; sparse gradients and complex parameters are refused.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0,
                 *, maximize: bool = False) -> None:
        lr = check_lr(lr)
        if not beta2_decay <= 0:
            raise ValueError(f"beta2_decay={beta2_decay!r} is invalid: allowed values are <= 0")
        if not isinstance(eps, (tuple, list)) or len(eps) != 2:
            raise ValueError(f"eps must be a pair (eps1 or None, eps2), got {eps!r}")
        if eps[0] is not None:
            check_range("eps1", eps[0], 0.0)
        check_range("eps2", eps[1], 0.0)
        check_range("d", d, 1.0)
        check_range("weight_decay", weight_decay, 0.0)
        check_flag("maximize", maximize)
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d, weight_decay=weight_decay,
                                      maximize=maximize))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = evaluate_closure(closure)
        check_grads(self, sparse=False, complex=False)
        for group in self.param_groups:
            lr, wd, (eps1, eps2) = group["lr"], group["weight_decay"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    if g.dim() > 1:                      # factored: one statistic per row and per column
                        state["row_var"] = g.new_zeros(*g.shape[:-1], 1)
                        state["col_var"] = g.new_zeros(*g.shape[:-2], 1, g.shape[-1])
                    else:
                        state["variance"] = torch.zeros_like(g)
                state["step"] += 1
                t = state["step"]
                e1 = torch.finfo(p.dtype).eps if eps1 is None else eps1
                one_minus_beta2 = t ** group["beta2_decay"]
                rel_step = min(lr, t ** -0.5)
                alpha = max(eps2, p.norm().item() / p.numel() ** 0.5) * rel_step  # RMS(θ) before decay
                if wd != 0:
                    p.mul_(1 - lr * wd)
                if g.dim() > 1:
                    row, col = state["row_var"], state["col_var"]
                    row.lerp_(g.square().mean(dim=-1, keepdim=True), one_minus_beta2)
                    col.lerp_(g.square().mean(dim=-2, keepdim=True), one_minus_beta2)
                    v_hat = (row @ col).div_(row.mean(dim=-2, keepdim=True).clamp_(min=e1))  # r·cᵀ / mean(r)
                else:
                    v_hat = state["variance"].lerp_(g.square(), one_minus_beta2).clone()
                u = v_hat.clamp_(min=e1 * e1).rsqrt_().mul_(g)
                clip = max(1.0, u.norm().item() / (u.numel() ** 0.5 * group["d"]))   # RMS(U)/d
                p.add_(u, alpha=-alpha / clip)
        return loss
