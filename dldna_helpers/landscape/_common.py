"""Small pieces every landscape module needs: data as a fixed list of batches, parameter lists
and direction checks. Kept private: the public functions validate their input through these."""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

Batches = list[tuple[torch.Tensor, torch.Tensor]]


def as_batches(data: Any, device: torch.device) -> Batches:
    """``data`` as a list of ``(x, y)`` batches on ``device``.

    ``data`` is a tuple ``(inputs, targets)`` of tensors or an iterable of such batches (a
    DataLoader). The batches are materialised once so that every evaluation sees exactly the
    same samples in the same order, even for a shuffling loader.
    """
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        pairs = [tuple(data)]
    elif isinstance(data, torch.Tensor):
        raise TypeError("data must be a tuple (inputs, targets) or a DataLoader of such batches, got a single tensor")
    else:
        try:
            pairs = [tuple(batch) for batch in data]
        except TypeError as exc:
            raise TypeError(
                f"data must be a tuple (inputs, targets) or a DataLoader of such batches, got {type(data).__name__}"
            ) from exc
    batches: Batches = []
    for i, pair in enumerate(pairs):
        if len(pair) != 2:
            raise ValueError(f"batch {i} has {len(pair)} elements; expected (inputs, targets)")
        x, y = pair
        if len(x) != len(y):
            raise ValueError(f"batch {i}: {len(x)} inputs but {len(y)} targets")
        if len(y):
            batches.append((x.to(device), y.to(device)))
    if not batches:
        raise ValueError("data is empty: it holds no samples (need at least one (inputs, targets) pair)")
    return batches


def model_device(model: nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        raise ValueError(f"{type(model).__name__} has no parameters; there is no loss landscape to explore") from None


def params_of(model: nn.Module) -> list[nn.Parameter]:
    """All parameters in ``model.parameters()`` order: the layout every direction uses."""
    params = list(model.parameters())
    if not params:
        raise ValueError(f"{type(model).__name__} has no parameters; there is no loss landscape to explore")
    return params


def check_direction(model: nn.Module, direction: Sequence[torch.Tensor], name: str) -> list[torch.Tensor]:
    """Validate that ``direction`` has one tensor per parameter with the parameter's shape."""
    params = params_of(model)
    if isinstance(direction, torch.Tensor) or not isinstance(direction, (list, tuple)):
        raise TypeError(f"{name} must be a list of tensors shaped like model.parameters(), got {type(direction).__name__}")
    if len(direction) != len(params):
        raise ValueError(f"{name} has {len(direction)} tensors but the model has {len(params)} parameters")
    names = [n for n, _ in model.named_parameters()]
    out = []
    for pname, p, d in zip(names, params, direction):
        if not isinstance(d, torch.Tensor):
            raise TypeError(f"{name}[{pname}] is {type(d).__name__}, not a tensor")
        if d.shape != p.shape:
            raise ValueError(f"{name}[{pname}] has shape {tuple(d.shape)} but the parameter has shape {tuple(p.shape)}")
        out.append(d.detach().to(device=p.device, dtype=p.dtype))
    return out


def batch_loss_sum(model: nn.Module, loss_fn: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, int]:
    """Sum of the (mean-reduced) loss over a batch, and the number of correct predictions."""
    out = model(x)
    return float(loss_fn(out, y)) * len(y), int((out.argmax(1) == y).sum())
