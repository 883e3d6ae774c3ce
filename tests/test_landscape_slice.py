"""LossSlice: the real loss on a weight-space plane as a differentiable function of (x, y)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from dldna_helpers.landscape import LossSlice, loss_surface, random_direction


def _setup(seed: int = 0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3))
    x, y = torch.randn(40, 3, 4), torch.randint(0, 3, (40,))
    d1 = random_direction(model, normalization="filter", seed=1)
    d2 = random_direction(model, normalization="filter", seed=2)
    return model, (x, y), d1, d2


def test_values_match_the_grid_of_loss_surface():
    model, batch, d1, d2 = _setup()
    xs, ys = np.array([-0.7, 0.0, 0.4]), np.array([-0.3, 0.9])
    grid = loss_surface(model, nn.CrossEntropyLoss(), batch, d1, d2, xs, ys, precompute=False)
    f = LossSlice(model, nn.CrossEntropyLoss(), batch, d1, d2)
    assert f.first is not None  # the shortcut is in use, and still agrees with the plain evaluation
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            value = f(torch.tensor(xv, dtype=torch.float64), torch.tensor(yv, dtype=torch.float64))
            assert value.dtype == torch.float64
            assert float(value) == pytest.approx(grid[i, j], rel=1e-5, abs=1e-6)


def test_gradient_matches_central_differences():
    model, batch, d1, d2 = _setup(3)
    f = LossSlice(model, nn.CrossEntropyLoss(), batch, d1, d2)
    p = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(f(p[0], p[1]), p)
    h = 1e-3
    def at(a, b):
        return float(f(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)))
    fd = [(at(0.3 + h, -0.2) - at(0.3 - h, -0.2)) / (2 * h), (at(0.3, -0.2 + h) - at(0.3, -0.2 - h)) / (2 * h)]
    assert g.numpy() == pytest.approx(np.array(fd), rel=2e-2, abs=1e-4)
    assert abs(g[0]) > 1e-3 or abs(g[1]) > 1e-3  # not a trivially flat point


def test_model_weights_and_mode_are_untouched_and_grids_are_refused():
    model, batch, d1, d2 = _setup()
    before = [p.detach().clone() for p in model.parameters()]
    model.train()
    f = LossSlice(model, nn.CrossEntropyLoss(), batch, d1, d2)
    f(torch.tensor(0.5), torch.tensor(-0.5))
    assert model.training and "forward" not in model[1].__dict__
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    with pytest.raises(ValueError, match="one point at a time"):
        f(torch.zeros(3), torch.zeros(3))
