"""Lion, "EvoLved Sign Momentum" (Chen et al. 2023): the sign of an interpolated momentum."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from ._checks import check_betas, check_range
from ._closure import evaluate_closure


class Lion(torch.optim.Optimizer):
    """``c = β1·m + (1 − β1)·g``;  ``θ ← θ − lr·(sign(c) + λ·θ)``;
    then ``m ← β2·m + (1 − β2)·g``.

    Two betas: β1 mixes the step direction, β2 (closer to 1) keeps the longer memory.
    Every coordinate moves by exactly ``lr`` (plus decay), so ``lr`` is usually
    3–10× smaller than AdamW's and ``weight_decay`` as much larger.
    """

    def __init__(self, params: Iterable, lr: float = 1e-4,
                 betas: tuple[float, float] = (0.9, 0.99),
                 weight_decay: float = 0.0) -> None:
        check_range("lr", lr, 0.0)
        check_betas(betas)
        check_range("weight_decay", weight_decay, 0.0)
        defaults = dict(lr=lr, betas=tuple(betas), weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                m, g = state["exp_avg"], p.grad
                if wd != 0:
                    p.mul_(1 - lr * wd)              # decoupled weight decay
                c = m.lerp(g, 1 - beta1)             # direction: β1·m + (1−β1)·g
                p.add_(c.sign_(), alpha=-lr)
                m.lerp_(g, 1 - beta2)                # memory: β2·m + (1−β2)·g
        return loss
