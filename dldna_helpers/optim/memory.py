"""Exact size of an optimizer's state: the bytes of every tensor it keeps, per parameter element."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class StateBytes:
    """``total`` bytes of state tensors; ``n_params`` parameter elements; ``per_param`` = total / n_params."""

    total: int
    n_params: int

    @property
    def per_param(self) -> float:
        return self.total / self.n_params if self.n_params else 0.0


def state_bytes(optimizer: torch.optim.Optimizer) -> StateBytes:
    """Bytes held in ``optimizer.state`` tensors (works for ``torch.optim`` optimizers as well).

    Counted exactly as ``numel × element_size`` of each tensor, scalar step counters included
    (``torch.optim`` keeps them as 0-d tensors; ours keep plain ints, which hold no tensor memory).
    State is created lazily, so call this after at least one ``step()``.
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"expected a torch.optim.Optimizer, got {type(optimizer).__name__}")
    total = sum(value.numel() * value.element_size()
                for state in optimizer.state.values() for value in state.values()
                if isinstance(value, torch.Tensor))
    n_params = sum(p.numel() for group in optimizer.param_groups for p in group["params"])
    return StateBytes(total=total, n_params=n_params)
