"""The first-layer shortcut of ``loss_surface``: right on square grids (where the corner check
alone cannot tell x from y), taken where it applies and not where it does not.

Whether the shortcut ran is observed from outside: while it is active the first layer is swapped
out of the model for a stand-in that returns its precomputed output, so the layer itself is not
called at the grid points; counting its calls with a forward pre-hook tells a fast sweep from a
plain one. Checked by planting, once each, swapped x/y in the shortcut, a shortcut never taken
and a shortcut taken without its check (issue 18, item 4; again for issue 19, item 6)."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
from torch import nn

from dldna_helpers.landscape import loss_surface, random_direction
from dldna_helpers.models import MLP

from test_landscape_surface import HiddenScale, data, naive_surface, small_mlp


@contextlib.contextmanager
def count_linear_calls(layer: nn.Linear):
    """Count the calls of ``layer`` itself (a pre-hook on the layer, not on whatever stands in for it)."""
    calls = {"n": 0}

    def count(_module, _args) -> None:
        calls["n"] += 1

    handle = layer.register_forward_pre_hook(count)
    try:
        yield calls
    finally:
        handle.remove()


def _loader(x, y, sizes):
    out, i = [], 0
    for s in sizes:
        out.append((x[i:i + s], y[i:i + s]))
        i += s
    return out


@pytest.mark.parametrize("points", [3, 5])
def test_square_symmetric_grid_matches_the_plain_computation(points):
    """xs == ys: the corner the shortcut is checked at has x = y, so only the other grid
    points can reveal x and y swapped inside the shortcut."""
    model, loss_fn = small_mlp(), nn.CrossEntropyLoss()
    x, y = data()
    batches = _loader(x, y, [25, 15])
    d1, d2 = random_direction(model, seed=1), random_direction(model, seed=2)
    grid = np.linspace(-1.0, 1.0, points)
    with count_linear_calls(model.net[0]) as calls:
        fast = loss_surface(model, loss_fn, batches, d1, d2, grid, grid)
    assert calls["n"] < points * points, "the shortcut was not taken on a plain MLP"
    plain = loss_surface(model, loss_fn, batches, d1, d2, grid, grid, precompute=False)
    np.testing.assert_allclose(fast, plain, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast, naive_surface(model, loss_fn, (x, y), d1, d2, grid, grid), rtol=0, atol=1e-9)
    # the surface is not symmetric in (x, y), so a transposed result would differ
    assert np.abs(fast - fast.T).max() > 1e-3


def test_shortcut_is_taken_where_it_applies():
    torch.manual_seed(0)
    model = MLP(in_features=12, hidden=(16, 8), num_classes=3).double()
    x, y = data()
    batches = _loader(x, y, [20, 20])
    d1, d2 = random_direction(model, seed=1), random_direction(model, seed=2)
    xs, ys = np.linspace(-1, 1, 4), np.linspace(-0.5, 0.5, 3)
    with count_linear_calls(model.net[0]) as calls:
        z = loss_surface(model, nn.CrossEntropyLoss(), batches, d1, d2, xs, ys)
    # two forward calls per batch outside the sweep (finding the layer, the plain check at the
    # corner) and none per grid point; the plain sweep would make 12 points x 2 batches more
    assert calls["n"] == 2 * len(batches)
    with count_linear_calls(model.net[0]) as plain_calls:
        plain = loss_surface(model, nn.CrossEntropyLoss(), batches, d1, d2, xs, ys, precompute=False)
    assert plain_calls["n"] == len(xs) * len(ys) * len(batches)
    np.testing.assert_allclose(z, plain, rtol=0, atol=1e-12)


def test_shortcut_is_not_taken_where_it_does_not_apply():
    """A weight-dependent input to the first layer (HiddenScale) makes the shortcut wrong; the
    check must reject it and every grid point must then run the layer itself."""
    torch.manual_seed(0)
    model, loss_fn = HiddenScale(), nn.CrossEntropyLoss()
    batch = data()
    d1 = random_direction(model, ignore_1d=False, seed=1)
    d2 = random_direction(model, ignore_1d=False, seed=2)
    grid = np.linspace(-1.0, 1.0, 3)           # square too: the corner check must still see it
    with count_linear_calls(model.fc1) as calls:
        z = loss_surface(model, loss_fn, batch, d1, d2, grid, grid)
    assert calls["n"] >= len(grid) ** 2
    np.testing.assert_allclose(z, naive_surface(model, loss_fn, batch, d1, d2, grid, grid), atol=1e-9)


class ReadsFirstLayer(nn.Module):
    """A forward pass that reads an attribute of its first layer besides calling it: the stand-in
    has no such attribute, so the shortcut must fall back to the plain sweep instead of failing."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(12, 8).double()
        self.fc2 = nn.Linear(8, 3).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x)[:, : self.fc1.out_features]))


def test_shortcut_falls_back_when_the_model_looks_inside_its_first_layer():
    torch.manual_seed(0)
    model, loss_fn, batch = ReadsFirstLayer(), nn.CrossEntropyLoss(), data()
    d1, d2 = random_direction(model, seed=1), random_direction(model, seed=2)
    grid = np.linspace(-1.0, 1.0, 3)
    with count_linear_calls(model.fc1) as calls:
        z = loss_surface(model, loss_fn, batch, d1, d2, grid, grid)
    assert calls["n"] >= len(grid) ** 2
    np.testing.assert_allclose(z, naive_surface(model, loss_fn, batch, d1, d2, grid, grid), atol=1e-9)
    assert model.fc1.out_features == 8 and type(model.fc1) is nn.Linear
