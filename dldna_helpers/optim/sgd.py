"""SGD with heavy-ball or Nesterov momentum (Polyak 1964; Sutskever et al. 2013)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from ._checks import check_flag, check_lr, check_range
from ._closure import evaluate_closure


class SGD(torch.optim.Optimizer):
    """SGD with momentum ``v ← μ·v + (1 − dampening)·g`` and ``θ ← θ − lr·v``.

    ``dampening=0`` (default) is the classical ``v ← μ·v + g`` of ``torch.optim.SGD``.
    ``dampening=momentum`` makes ``v`` a moving average of ``g``, whose steps are
    ``1/(1 − μ)`` times smaller (10× at μ = 0.9).
    ``weight_decay`` adds ``λ·θ`` to the gradient (an L2 penalty); ``maximize=True`` climbs
    the objective instead (the gradient's sign flipped). Sparse and complex gradients work as in
    ``torch.optim.SGD``: every operation here is linear in ``g``.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False, *, maximize: bool = False) -> None:
        lr = check_lr(lr)
        check_range("momentum", momentum, 0.0, 1.0)
        check_range("dampening", dampening, 0.0, 1.0, include_high=True)
        check_range("weight_decay", weight_decay, 0.0)
        if nesterov and (momentum == 0 or dampening != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0, got "
                             f"momentum={momentum}, dampening={dampening}")
        check_flag("maximize", maximize)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                if wd != 0:
                    g = g.add(p, alpha=wd)                  # L2 penalty: g + λθ
                if mu != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:      # first step: v = g
                        state["momentum_buffer"] = g.clone()
                    else:
                        v = state["momentum_buffer"]
                        v.mul_(mu).add_(g, alpha=1 - group["dampening"])
                    v = state["momentum_buffer"]
                    # Nesterov looks one step ahead: g + μ·v instead of v
                    g = g.add(v, alpha=mu) if group["nesterov"] else v
                p.add_(g, alpha=-lr)
        return loss
