"""Adam (Kingma & Ba 2015) and AdamW, Adam with decoupled weight decay (Loshchilov & Hutter 2019)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from ._checks import check_betas, check_range
from ._closure import evaluate_closure


class Adam(torch.optim.Optimizer):
    """Bias-corrected moving averages of ``g`` (``m``) and ``g²`` (``v``); step ``lr · m̂ / (√v̂ + eps)``.

    ``weight_decay`` is an L2 penalty added to the gradient (as in ``torch.optim.Adam``); it is then
    rescaled by ``1/√v̂`` like the rest of the gradient. :class:`AdamW` decouples it instead.
    """

    decoupled_weight_decay = False

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        check_range("lr", lr, 0.0)
        check_betas(betas)
        check_range("eps", eps, 0.0)
        check_range("weight_decay", weight_decay, 0.0)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

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
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
                g = p.grad
                if wd != 0:
                    if self.decoupled_weight_decay:
                        p.mul_(1 - lr * wd)                       # AdamW: shrink θ directly
                    else:
                        g = g.add(p, alpha=wd)                    # Adam: L2 term inside the gradient
                m.lerp_(g, 1 - beta1)                             # m ← β1·m + (1−β1)·g
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)     # v ← β2·v + (1−β2)·g²
                bias1 = 1 - beta1 ** t
                bias2_sqrt = (1 - beta2 ** t) ** 0.5
                denom = (v.sqrt() / bias2_sqrt).add_(group["eps"])
                p.addcdiv_(m, denom, value=-lr / bias1)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay: ``θ ← θ·(1 − lr·λ)`` before the Adam step."""

    decoupled_weight_decay = True

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
