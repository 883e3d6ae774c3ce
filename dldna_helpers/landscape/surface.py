"""The loss on a 2-D slice of weight space, w + x·d1 + y·d2, evaluated on a grid, fast.

Per grid point the weights are overwritten in place (``torch.add(base, d1, alpha=x, out=p)``),
with no new tensors or ``load_state_dict``. The first layer is cheaper still: if it is an
``nn.Linear`` fed directly by the data, its output is linear in (x, y),

    (W + x·D1 + y·D2)·a + (b + x·e1 + y·e2) = (W·a + b) + x·(D1·a + e1) + y·(D2·a + e2),

so its three terms are computed once per batch, and during the sweep the layer is swapped out
of its parent for a stand-in module that returns their combination for the current point. For
the chapter's MLP that layer holds most of the multiply-adds, so a grid point costs less than a
plain forward pass. The shortcut is checked against the plain computation before it is used.
"""
from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, Container, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._common import Batches, as_batches, check_direction, model_device, params_of


def _grid(values: Sequence[float], name: str) -> np.ndarray:
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr[~np.isfinite(arr)][:3]}")
    return arr


def _first_layer(model: nn.Module, batches: Batches) -> tuple[nn.Linear | None, list[torch.Tensor]]:
    """The first module with parameters that the forward pass calls, and its inputs per batch,
    if it is an ``nn.Linear`` called exactly once per batch (otherwise ``None``)."""
    calls: list[tuple[nn.Module, torch.Tensor]] = []

    def record(module: nn.Module, args: tuple) -> None:
        calls.append((module, args[0] if args else None))

    owners = [m for m in model.modules() if any(True for _ in m.parameters(recurse=False))]
    handles = [m.register_forward_pre_hook(record) for m in owners]
    inputs = []
    try:
        first = None
        for x, _ in batches:
            calls.clear()
            model(x)
            if not calls:
                return None, []
            mod, inp = calls[0]
            if first is None:
                first = mod
            if mod is not first or sum(m is first for m, _ in calls) != 1 or not isinstance(inp, torch.Tensor):
                return None, []
            inputs.append(inp.detach())
    finally:
        for h in handles:
            h.remove()
    return (first, inputs) if isinstance(first, nn.Linear) else (None, [])


class _Precomputed(nn.Module):
    """Stands in for the first layer: ignores its input and returns ``output``, set before each batch."""

    def __init__(self) -> None:
        super().__init__()
        self.output: torch.Tensor | None = None

    def forward(self, _input: torch.Tensor) -> torch.Tensor:
        return self.output


def _parent_of(model: nn.Module, layer: nn.Module) -> tuple[nn.Module, str] | None:
    """``(parent, name)`` of the one place ``layer`` is registered in ``model``, else ``None``."""
    sites = [(m, name) for m in model.modules() for name, child in m.named_children() if child is layer]
    return sites[0] if len(sites) == 1 else None


@contextlib.contextmanager
def _swapped(parent: nn.Module, name: str, stand_in: nn.Module) -> Iterator[None]:
    """``parent.<name>`` replaced by ``stand_in`` inside the block, put back however it ends."""
    layer = getattr(parent, name)
    setattr(parent, name, stand_in)
    try:
        yield
    finally:
        setattr(parent, name, layer)


def _mean_loss(model: nn.Module, loss_fn: Callable, batches: Batches, n: int) -> float:
    return sum(float(loss_fn(model(x), y)) * len(y) for x, y in batches) / n


@torch.no_grad()
def loss_surface(
    model: nn.Module,
    loss_fn: Callable,
    data: Any,
    d1: Sequence[torch.Tensor],
    d2: Sequence[torch.Tensor],
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    precompute: bool = True,
) -> np.ndarray:
    """Mean loss at w + x·d1 + y·d2 for every x in ``xs`` and y in ``ys``.

    Returns an array of shape ``(len(ys), len(xs))`` indexed ``[y, x]``: row ``i`` is
    ``ys[i]``, column ``j`` is ``xs[j]`` — the layout ``plt.contour(xs, ys, Z)`` expects.
    ``d1`` and ``d2`` are lists of tensors shaped like ``model.parameters()``. The model is
    evaluated in eval mode; its weights, modules and mode are restored exactly afterwards, also
    when an exception interrupts the grid. ``precompute=False`` disables the first-layer shortcut.
    """
    xs_arr, ys_arr = _grid(xs, "xs"), _grid(ys, "ys")
    d1 = check_direction(model, d1, "d1")
    d2 = check_direction(model, d2, "d2")
    device = model_device(model)
    batches = as_batches(data, device)
    n = sum(len(y) for _, y in batches)
    params = params_of(model)
    base = [p.detach().clone() for p in params]
    was_training = model.training
    surface = np.empty((ys_arr.size, xs_arr.size))

    def set_point(x: float, y: float, skip: Container[int] = ()) -> None:
        for i, (p, b, u, v) in enumerate(zip(params, base, d1, d2)):
            if i not in skip:
                torch.add(b, u, alpha=x, out=p)
                p.add_(v, alpha=y)

    def plain_loss(x: float, y: float) -> float:
        set_point(x, y)
        return _mean_loss(model, loss_fn, batches, n)

    try:
        model.eval()
        evaluate, sweep_context = plain_loss, contextlib.nullcontext()
        first, inputs = _first_layer(model, batches) if precompute else (None, [])
        site = _parent_of(model, first) if first is not None else None
        if site is not None:
            index = {id(p): i for i, p in enumerate(params)}
            iw, ib = index[id(first.weight)], (index[id(first.bias)] if first.bias is not None else None)
            skip = {iw} | ({ib} if ib is not None else set())

            def terms(source: list[torch.Tensor]) -> list[torch.Tensor]:
                return [F.linear(a, source[iw], source[ib] if ib is not None else None) for a in inputs]

            a0, a1, a2 = terms(base), terms(d1), terms(d2)
            buffers = [torch.empty_like(t) for t in a0]
            stand_in = _Precomputed()

            def fast_loss(x: float, y: float) -> float:
                set_point(x, y, skip)   # the first layer's weights go unused: the stand-in replaces it
                total = 0.0
                for a, b, c, out, (xb, yb) in zip(a0, a1, a2, buffers, batches):
                    torch.add(a, b, alpha=x, out=out)
                    out.add_(c, alpha=y)
                    stand_in.output = out
                    total += float(loss_fn(model(xb), yb)) * len(yb)
                return total / n

            # check the shortcut where it is hardest: the grid corner farthest from the centre
            cx, cy = float(xs_arr[np.abs(xs_arr).argmax()]), float(ys_arr[np.abs(ys_arr).argmax()])
            try:
                with _swapped(*site, stand_in):
                    fast = fast_loss(cx, cy)
            except Exception:   # e.g. the model reads the layer's attributes; a real error recurs below
                fast = None
            slow = plain_loss(cx, cy)
            eps = torch.finfo(base[0].dtype).eps
            if fast is not None and (math.isclose(fast, slow, rel_tol=1e3 * eps, abs_tol=1e3 * eps)
                                     or (fast != fast and slow != slow)):
                evaluate, sweep_context = fast_loss, _swapped(*site, stand_in)
        with sweep_context:
            for i, y in enumerate(ys_arr):
                for j, x in enumerate(xs_arr):
                    surface[i, j] = evaluate(float(x), float(y))
    finally:
        for p, b in zip(params, base):
            p.copy_(b)
        model.train(was_training)
    return surface
