"""AdaGrad: per-coordinate steps scaled by the root of the summed squared gradients (Duchi et al. 2011)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from ._checks import check_range
from ._closure import evaluate_closure


class AdaGrad(torch.optim.Optimizer):
    """``s ← s + g²``, ``θ ← θ − lr_t · g / (√s + eps)`` with ``lr_t = lr / (1 + (t − 1)·lr_decay)``.

    Same hyperparameters and semantics as ``torch.optim.Adagrad``.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10) -> None:
        check_range("lr", lr, 0.0)
        check_range("lr_decay", lr_decay, 0.0)
        check_range("weight_decay", weight_decay, 0.0)
        check_range("initial_accumulator_value", initial_accumulator_value, 0.0)
        check_range("eps", eps, 0.0)
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
                state["step"] += 1
                g = p.grad
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])
                lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                state["sum"].addcmul_(g, g, value=1)
                p.addcdiv_(g, state["sum"].sqrt().add_(group["eps"]), value=-lr_t)
        return loss
