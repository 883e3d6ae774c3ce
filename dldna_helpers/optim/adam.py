"""Adam (Kingma & Ba 2015) and AdamW, Adam with decoupled weight decay (Loshchilov & Hutter 2019)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from ._checks import check_betas, check_flag, check_grads, check_lr, check_range
from ._closure import evaluate_closure
from ._complex import real_view


class Adam(torch.optim.Optimizer):
    """Bias-corrected moving averages of ``g`` (``m``) and ``g²`` (``v``); step ``lr · m̂ / (√v̂ + eps)``.

    ``weight_decay`` is an L2 penalty added to the gradient (as in ``torch.optim.Adam``); it is then
    rescaled by ``1/√v̂`` like the rest of the gradient. :class:`AdamW` decouples it instead.
    ``amsgrad=True`` divides by the largest ``v`` seen so far (Reddi et al. 2018), so a coordinate's
    step size never grows back after a large gradient; ``maximize=True`` climbs the objective.
    ``bias_correction=False`` drops the division by ``1 − β1ᵗ`` and ``1 − β2ᵗ`` (for showing what it
    does: the first step is ``(1 − β1)/√(1 − β2)`` times ``lr`` per coordinate, 3.16 with the
    default betas). Complex parameters count as two real coordinates each, as in ``torch.optim``.
    """

    decoupled_weight_decay = False

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False, bias_correction: bool = True) -> None:
        lr = check_lr(lr)
        check_betas(betas)
        check_range("eps", eps, 0.0)
        check_range("weight_decay", weight_decay, 0.0)
        check_flag("amsgrad", amsgrad)
        check_flag("maximize", maximize)
        check_flag("bias_correction", bias_correction)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, bias_correction=bias_correction))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = evaluate_closure(closure)
        check_grads(self, sparse=False)
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
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                g = -p.grad if group["maximize"] else p.grad
                if wd != 0:
                    if self.decoupled_weight_decay:
                        p.mul_(1 - lr * wd)                       # AdamW: shrink θ directly
                    else:
                        g = g.add(p, alpha=wd)                    # Adam: L2 term inside the gradient
                theta, g, m, v = map(real_view, (p, g, state["exp_avg"], state["exp_avg_sq"]))
                m.lerp_(g, 1 - beta1)                             # m ← β1·m + (1−β1)·g
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)     # v ← β2·v + (1−β2)·g²
                if group["amsgrad"]:                              # divide by the largest v so far
                    v_max = real_view(state["max_exp_avg_sq"])
                    v = torch.maximum(v_max, v, out=v_max)
                corrected = group.get("bias_correction", True)
                bias1 = 1 - beta1 ** t if corrected else 1.0
                bias2_sqrt = (1 - beta2 ** t) ** 0.5 if corrected else 1.0
                denom = (v.sqrt() / bias2_sqrt).add_(group["eps"])
                theta.addcdiv_(m, denom, value=-lr / bias1)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay: ``θ ← θ·(1 − lr·λ)`` before the Adam step."""

    decoupled_weight_decay = True

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, bias_correction: bool = True) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, bias_correction=bias_correction)
