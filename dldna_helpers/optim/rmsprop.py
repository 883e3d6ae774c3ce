"""RMSProp: steps divided by a moving root-mean-square of recent gradients (Hinton's 2012 lecture)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from ._checks import check_flag, check_grads, check_lr, check_range
from ._closure import evaluate_closure
from ._complex import real_view


class RMSProp(torch.optim.Optimizer):
    """``s ← α·s + (1 − α)·g²``, ``θ ← θ − lr · g / (√s + eps)``.

    Options as in ``torch.optim.RMSprop``: ``centered`` divides by an estimate of the standard
    deviation (``s − ḡ²``) instead, and ``momentum > 0`` accumulates the scaled step in a buffer;
    ``maximize=True`` climbs the objective. Complex parameters count as two real coordinates each.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        lr = check_lr(lr)
        check_range("alpha", alpha, 0.0, 1.0)
        check_range("eps", eps, 0.0)
        check_range("weight_decay", weight_decay, 0.0)
        check_range("momentum", momentum, 0.0, 1.0)
        check_flag("maximize", maximize)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = evaluate_closure(closure)
        check_grads(self, sparse=False)
        for group in self.param_groups:
            alpha, mu = group["alpha"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p)
                    if mu > 0:
                        state["momentum_buffer"] = torch.zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = torch.zeros_like(p)
                state["step"] += 1
                g = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])
                theta, g, square_avg = map(real_view, (p, g, state["square_avg"]))
                square_avg.mul_(alpha).addcmul_(g, g, value=1 - alpha)
                if group["centered"]:
                    grad_avg = real_view(state["grad_avg"]).lerp_(g, 1 - alpha)
                    denom = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_().add_(group["eps"])
                else:
                    denom = square_avg.sqrt().add_(group["eps"])
                if mu > 0:
                    buf = real_view(state["momentum_buffer"]).mul_(mu).addcdiv_(g, denom)
                    theta.add_(buf, alpha=-group["lr"])
                else:
                    theta.addcdiv_(g, denom, value=-group["lr"])
        return loss
