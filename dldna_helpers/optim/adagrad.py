"""AdaGrad: per-coordinate steps scaled by the root of the summed squared gradients (Duchi et al. 2011)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from ._checks import check_flag, check_lr, check_range
from ._closure import evaluate_closure
from ._complex import real_view


class AdaGrad(torch.optim.Optimizer):
    """``s ← s + g²``, ``θ ← θ − lr_t · g / (√s + eps)`` with ``lr_t = lr / (1 + (t − 1)·lr_decay)``.

    Same hyperparameters and semantics as ``torch.optim.Adagrad``, including ``maximize``, complex
    parameters (two real coordinates each) and sparse gradients (``nn.Embedding(sparse=True)``),
    which update only the rows that received a gradient; with them ``weight_decay`` must be 0.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *, maximize: bool = False) -> None:
        lr = check_lr(lr)
        check_range("lr_decay", lr_decay, 0.0)
        check_range("weight_decay", weight_decay, 0.0)
        check_range("initial_accumulator_value", initial_accumulator_value, 0.0)
        check_range("eps", eps, 0.0)
        check_flag("maximize", maximize)
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            sparse = any(p.grad is not None and p.grad.is_sparse for p in group["params"])
            if sparse and group["weight_decay"] != 0:      # refused before any parameter of the group moves
                raise RuntimeError("weight_decay option is not compatible with sparse gradients")
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
                state["step"] += 1
                g = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])
                lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                if g.is_sparse:
                    sparse_step(p, g, state["sum"], lr_t, group["eps"])
                    continue
                theta, g, s = map(real_view, (p, g, state["sum"]))
                s.addcmul_(g, g, value=1)
                theta.addcdiv_(g, s.sqrt().add_(group["eps"]), value=-lr_t)
        return loss


def sparse_step(p: torch.Tensor, g: torch.Tensor, s: torch.Tensor, lr_t: Any, eps: float) -> None:
    """The same update for a sparse ``g``, touching only the entries it holds (as torch.optim.Adagrad).

    Duplicate indices (a row looked up twice in a batch) are summed first: the update squares
    ``g``, so two halves of a gradient are not the same as the whole.
    """
    g = g.coalesce()
    indices, values = g._indices(), g._values()
    s.add_(torch.sparse_coo_tensor(indices, values.pow(2), g.shape, check_invariants=False))
    denom = s.sparse_mask(g)._values().sqrt_().add_(eps)
    p.add_(torch.sparse_coo_tensor(indices, values / denom, g.shape, check_invariants=False), alpha=-lr_t)
