"""Checks shared by the optimizers: each error names the bad value and what is allowed.

Hyperparameters are checked once, in the constructor; gradients at every ``step`` before any
parameter moves, so a refused step leaves the model as it was (as in ``torch.optim``).
"""
from __future__ import annotations

import numbers
from typing import Any

import torch


def check_range(name: str, value: float, low: float, high: float | None = None, *,
                include_high: bool = False) -> None:
    """Require ``low <= value < high`` (``<= high`` with ``include_high``; no upper bound if ``high`` is None).

    Python and NumPy numbers are accepted (``numbers.Real``); ``bool`` is not a number here.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    too_high = high is not None and (value > high if include_high else value >= high)
    if not value >= low or too_high:  # `not >=` also rejects nan
        upper = "" if high is None else (f" and <= {high}" if include_high else f" and < {high}")
        shown = value.item() if hasattr(value, "item") else value  # np.float32(-1.0) shown as -1.0
        raise ValueError(f"{name}={shown!r} is invalid: allowed values are >= {low}{upper}")


def check_lr(lr: Any) -> Any:
    """The learning rate as ``torch.optim`` takes it: a number >= 0 or a one-element real tensor.

    A tensor is kept (as a 0-d view of the same memory), so changing it in place, as a
    scheduler does, changes the steps. Returns the value to store in the defaults.
    """
    if isinstance(lr, torch.Tensor):
        if lr.numel() != 1 or lr.is_complex() or lr.dtype == torch.bool:
            raise ValueError(f"a tensor lr must hold one real number, got shape {tuple(lr.shape)} "
                             f"and dtype {lr.dtype}")
        check_range("lr", lr.item(), 0.0)
        return lr.view(())
    check_range("lr", lr, 0.0)
    return lr


def check_flag(name: str, value: Any) -> None:
    """Options such as ``maximize`` must be True or False (a string like "no" would be truthy)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")


def check_betas(betas: tuple[float, float]) -> None:
    """Both decay rates of an exponential moving average must lie in [0, 1)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas, start=1):
        check_range(f"beta{i}", beta, 0.0, 1.0)


def check_grads(optimizer: torch.optim.Optimizer, *, sparse: bool = False, complex: bool = True) -> None:
    """Refuse sparse gradients and complex parameters an optimizer cannot use, with torch.optim's words.

    Called at the start of ``step``: the error comes before any parameter has moved.
    """
    name = type(optimizer).__name__
    for group in optimizer.param_groups:
        for p in group["params"]:
            if not complex and p.is_complex():
                raise RuntimeError(f"{name} does not support complex parameters (got a {p.dtype} parameter "
                                   f"of shape {tuple(p.shape)})")
            if not sparse and p.grad is not None and p.grad.is_sparse:
                raise RuntimeError(f"{name} does not support sparse gradients (got one for a parameter "
                                   f"of shape {tuple(p.shape)}, e.g. from nn.Embedding(sparse=True))")
