"""The real loss on a 2-D slice of weight space as a differentiable function of (x, y).

:func:`~dldna_helpers.landscape.loss_surface` measures f(x, y) = L(w + x·d1 + y·d2) on a grid;
:class:`LossSlice` gives the same f as a torch function of two scalar tensors, so autograd
yields ∂f/∂x and ∂f/∂y and any optimizer can walk on the network's own slice
(:func:`dldna_helpers.surfaces.optimizer_paths` accepts it like a test function). The
first-layer shortcut of ``loss_surface`` applies here too: an ``nn.Linear`` fed by the data
has an output linear in (x, y), computed once as three terms.
"""
from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from ._common import as_batches, check_direction, model_device, params_of
from .surface import _first_layer, _parent_of, _Precomputed, _swapped

__all__ = ["LossSlice"]


class LossSlice:
    """``f(x, y)`` = mean ``loss_fn`` over ``data`` at ``w + x·d1 + y·d2`` (model in eval mode).

    ``x`` and ``y`` are 0-dim tensors (float64 is fine: the point is cast to the model's dtype
    and the loss returned in the dtype of ``x``); gradients flow back to them. The model's own
    weights are never modified.
    """

    def __init__(self, model: nn.Module, loss_fn: Callable, data: Any,
                 d1: Sequence[torch.Tensor], d2: Sequence[torch.Tensor]) -> None:
        self.model, self.loss_fn = model, loss_fn
        self.d1, self.d2 = check_direction(model, d1, "d1"), check_direction(model, d2, "d2")
        self.batches = as_batches(data, model_device(model))
        self.n = sum(len(y) for _, y in self.batches)
        params = params_of(model)
        index = {id(p): name for name, p in model.named_parameters()}
        self.names = [index[id(p)] for p in params]
        self.base = [p.detach().clone() for p in params]
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                self.first, inputs = _first_layer(model, self.batches)
        finally:
            model.train(was_training)
        # the shortcut swaps the first layer out of its one parent module; without one, no shortcut
        self.site = _parent_of(model, self.first) if self.first is not None else None
        if self.site is None:
            self.first = None
        self.skip: set[str] = set()
        if self.first is not None:
            own = {id(self.first.weight), id(self.first.bias) if self.first.bias is not None else None}
            slot = {id(p): i for i, p in enumerate(params)}
            self.skip = {index[i] for i in own if i is not None}
            iw = slot[id(self.first.weight)]
            ib = slot[id(self.first.bias)] if self.first.bias is not None else None

            def terms(source: list[torch.Tensor]) -> list[torch.Tensor]:
                bias = source[ib] if ib is not None else None
                return [F.linear(a, source[iw], bias) for a in inputs]

            with torch.no_grad():
                self.terms = (terms(self.base), terms(self.d1), terms(self.d2))

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x, y = torch.as_tensor(x), torch.as_tensor(y)
        if x.dim() != 0 or y.dim() != 0:
            raise ValueError(f"LossSlice evaluates one point at a time: x and y must be 0-dim tensors, "
                             f"got shapes {tuple(x.shape)} and {tuple(y.shape)} (use loss_surface for a grid)")
        out_dtype = x.dtype if x.is_floating_point() else torch.float64
        xf, yf = x.to(self.base[0].dtype), y.to(self.base[0].dtype)
        point = {name: b + xf * u + yf * v for name, b, u, v in zip(self.names, self.base, self.d1, self.d2)
                 if name not in self.skip}
        was_training = self.model.training
        self.model.eval()
        total = 0.0
        stand_in = _Precomputed()
        try:
            with _swapped(*self.site, stand_in) if self.first is not None else nullcontext():
                for bi, (xb, yb) in enumerate(self.batches):
                    if self.first is not None:   # the batch's first-layer output, linear in (x, y)
                        a0, a1, a2 = (t[bi] for t in self.terms)
                        stand_in.output = a0 + xf * a1 + yf * a2
                    total = total + self.loss_fn(functional_call(self.model, point, (xb,)), yb) * len(yb)
        finally:
            self.model.train(was_training)
        return (total / self.n).to(out_dtype)
