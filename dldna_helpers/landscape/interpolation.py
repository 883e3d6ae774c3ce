"""Loss and accuracy along the straight line between two models (Goodfellow et al., 2015)."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ._common import as_batches, batch_loss_sum, model_device


@dataclass
class Interpolation:
    """``loss[i]`` and ``accuracy[i]`` of the model (1 − alphas[i])·a + alphas[i]·b."""

    alphas: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray


@torch.no_grad()
def linear_interpolation(
    model_a: nn.Module, model_b: nn.Module, loss_fn: nn.Module, data: Any, alphas: Sequence[float]
) -> Interpolation:
    """Evaluate (1 − α)·a + α·b for each α (values outside [0, 1] extrapolate).

    Parameters and floating-point buffers (e.g. BatchNorm statistics) are both interpolated;
    integer buffers are taken from ``model_a``. Evaluation is in eval mode; neither input model
    is modified.
    """
    alphas = np.asarray(list(alphas), dtype=float)
    if alphas.ndim != 1 or alphas.size == 0:
        raise ValueError(f"alphas must be a non-empty 1-D sequence of numbers, got shape {alphas.shape}")
    if not np.all(np.isfinite(alphas)):
        raise ValueError(f"alphas must be finite, got {alphas[~np.isfinite(alphas)][:3]}")
    state_a, state_b = model_a.state_dict(), model_b.state_dict()
    if state_a.keys() != state_b.keys():
        diff = sorted(set(state_a) ^ set(state_b))
        raise ValueError(f"the two models have different state_dict keys (e.g. {diff[:3]}); they must share one architecture")
    for key in state_a:
        if state_a[key].shape != state_b[key].shape:
            raise ValueError(
                f"{key}: shape {tuple(state_a[key].shape)} in model_a but {tuple(state_b[key].shape)} in model_b"
            )
    device = model_device(model_a)
    batches = as_batches(data, device)
    work = copy.deepcopy(model_a).eval()
    target = work.state_dict()  # tensors share storage with ``work``: copying into them sets the weights
    start = {k: v.detach().clone() for k, v in state_a.items()}
    delta = {k: (state_b[k].to(v.device) - v) for k, v in start.items() if v.is_floating_point()}
    n = sum(len(y) for _, y in batches)
    losses, accs = [], []
    for alpha in alphas:
        for key, d in delta.items():
            torch.add(start[key], d, alpha=float(alpha), out=target[key])
        loss_sum, correct = 0.0, 0
        for x, y in batches:
            ls, c = batch_loss_sum(work, loss_fn, x, y)
            loss_sum, correct = loss_sum + ls, correct + c
        losses.append(loss_sum / n)
        accs.append(correct / n)
    return Interpolation(alphas, np.array(losses), np.array(accs))
