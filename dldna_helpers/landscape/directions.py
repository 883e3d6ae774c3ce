"""Random directions in weight space, scaled so that plots of different networks compare
(filter normalisation, Li et al., 2018)."""
from __future__ import annotations

import torch
from torch import nn

from ._common import params_of

NORMALIZATIONS = ("filter", "layer", "none")


def random_direction(
    model: nn.Module, normalization: str = "filter", ignore_1d: bool = True, seed: int | None = None
) -> list[torch.Tensor]:
    """A Gaussian direction shaped like ``model.parameters()``.

    ``normalization="filter"``: each output slice ``d[i]`` (a row of a linear layer, one filter of
    a convolution) is rescaled to the norm of the matching weight slice ``w[i]``, so a step of
    size 1 changes every filter by its own size and the scale invariance of ReLU networks no
    longer distorts the picture. ``"layer"`` rescales whole tensors, ``"none"`` leaves the
    Gaussian as drawn. With ``ignore_1d`` (default) 1-D parameters (biases, PReLU slopes,
    normalisation scales) get zero direction, as in Li et al.; otherwise they are normalised like
    the rest, each entry being its own slice. ``seed`` makes the direction reproducible on any
    device (it is drawn on the CPU, then moved).
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    direction = []
    for p in params_of(model):
        w = p.detach()
        d = torch.randn(w.shape, generator=gen, dtype=torch.float64)
        if ignore_1d and w.dim() <= 1:
            d.zero_()
        elif normalization == "filter":
            w_rows = w.double().cpu().reshape(w.shape[0] if w.dim() else 1, -1)
            d_rows = d.reshape(w_rows.shape)
            scale = torch.linalg.vector_norm(w_rows, dim=1) / torch.linalg.vector_norm(d_rows, dim=1).clamp_min(1e-300)
            d = (d_rows * scale[:, None]).reshape(w.shape)
        elif normalization == "layer":
            d *= torch.linalg.vector_norm(w.double()).cpu() / torch.linalg.vector_norm(d).clamp_min(1e-300)
        direction.append(d.to(device=w.device, dtype=w.dtype))
    return direction
