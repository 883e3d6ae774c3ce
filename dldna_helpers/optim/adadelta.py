"""Adadelta (Zeiler 2012): RMSProp's denominator, and the RMS of past updates as the numerator."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from ._checks import check_flag, check_grads, check_lr, check_range
from ._closure import evaluate_closure
from ._complex import real_view


class Adadelta(torch.optim.Optimizer):
    """``s ← ρ·s + (1 − ρ)·g²``; ``Δ = √(u + eps) / √(s + eps) · g``; ``u ← ρ·u + (1 − ρ)·Δ²``;
    ``θ ← θ − lr·Δ``.

    The step is the gradient times the ratio of two running RMS values: of past *updates* (``u``)
    over past *gradients* (``s``), so it has the units of θ and needs no global learning rate
    (``lr = 1``, as in the paper; ``torch.optim.Adadelta`` keeps ``lr`` as a multiplier, and so does
    this class). ``eps`` starts the numerator: with ``u = 0`` the first steps are ``√eps/√(s + eps)·g``.
    ``weight_decay`` adds ``λ·θ`` to the gradient; ``maximize=True`` climbs the objective. Complex
    parameters count as two real coordinates each, as in ``torch.optim``.
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        lr = check_lr(lr)
        check_range("rho", rho, 0.0, 1.0, include_high=True)
        check_range("eps", eps, 0.0)
        check_range("weight_decay", weight_decay, 0.0)
        check_flag("maximize", maximize)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = evaluate_closure(closure)
        check_grads(self, sparse=False)
        for group in self.param_groups:
            rho, eps = group["rho"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p)     # s: running mean of g²
                    state["acc_delta"] = torch.zeros_like(p)      # u: running mean of Δ²
                state["step"] += 1
                g = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])
                theta, g, s, u = map(real_view, (p, g, state["square_avg"], state["acc_delta"]))
                s.mul_(rho).addcmul_(g, g, value=1 - rho)
                delta = u.add(eps).sqrt_().div_(s.add(eps).sqrt_()).mul_(g)
                u.mul_(rho).addcmul_(delta, delta, value=1 - rho)
                theta.add_(delta, alpha=-group["lr"])
        return loss
