"""The closure protocol of ``torch.optim.Optimizer.step``, shared by every optimizer here."""
from __future__ import annotations

from typing import Any, Callable

import torch


def evaluate_closure(closure: Callable[[], Any] | None) -> Any:
    """Re-evaluate the loss (with gradients enabled) when ``step`` was given a closure."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()
