"""Lion, "EvoLved Sign Momentum" (Chen et al. 2023): the sign of an interpolated momentum."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from ._checks import check_betas, check_flag, check_grads, check_lr, check_range
from ._closure import evaluate_closure


class Lion(torch.optim.Optimizer):
    """``c = β1·m + (1 − β1)·g``;  ``θ ← θ − lr·(sign(c) + λ·θ)``;
    then ``m ← β2·m + (1 − β2)·g``.

    Two betas: β1 mixes the step direction, β2 (closer to 1) keeps the longer memory.
    Every coordinate moves by exactly ``lr`` (plus decay), so ``lr`` is usually
    3–10× smaller than AdamW's and ``weight_decay`` as much larger. ``maximize=True`` climbs
    the objective instead. Sparse gradients and complex parameters are refused. A non-finite
    gradient makes the parameter nan (as in Adam), so the divergence is seen, not frozen.
    """

    def __init__(self, params: Iterable, lr: float = 1e-4,
                 betas: tuple[float, float] = (0.9, 0.99),
                 weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        lr = check_lr(lr)
        check_betas(betas)
        check_range("weight_decay", weight_decay, 0.0)
        check_flag("maximize", maximize)
        defaults = dict(lr=lr, betas=tuple(betas), weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = evaluate_closure(closure)
        check_grads(self, sparse=False, complex=False)
        for group in self.param_groups:
            lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                m = state["exp_avg"]
                g = -p.grad if group["maximize"] else p.grad
                if wd != 0:
                    p.mul_(1 - lr * wd)              # decoupled weight decay
                c = m.lerp(g, 1 - beta1)             # direction: β1·m + (1−β1)·g
                # sign(nan) is 0: a nan or inf gradient would freeze the coordinate silently, its
                # momentum nan forever. c·0 is 0 where c is finite and nan where it is not, so the
                # parameter turns nan and the training loop reports the divergence.
                p.add_(c.sign().add_(c.mul_(0.0)), alpha=-lr)
                m.lerp_(g, 1 - beta2)                # memory: β2·m + (1−β2)·g
        return loss
