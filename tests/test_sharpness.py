"""sharpness_trajectory on least squares, where the Hessian 2XᵀX/n is constant and known."""
import math

import pytest
import torch
from torch import nn

from dldna_helpers.dynamics import sharpness_trajectory


def _problem(lr: float, steps: int, every: int = 3):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(40, 6, generator=gen, dtype=torch.float64)
    x[:, 0] *= 3.0   # a clear top eigenvalue
    y = torch.randn(40, 1, generator=gen, dtype=torch.float64)
    model = nn.Linear(6, 1, bias=False).double()
    w0 = model.weight.detach().clone()
    run = sharpness_trajectory(model, nn.MSELoss(), x, y, lr, steps, every=every, lanczos_iter=6)
    return x, y, w0, run


def test_sharpness_is_the_exact_top_eigenvalue_and_losses_follow_gd():
    x, y, w0, run = _problem(lr=0.05, steps=10)
    hessian = 2 * x.T @ x / len(x)
    top = torch.linalg.eigvalsh(hessian).max().item()
    assert run["step"].tolist() == [0, 3, 6, 9, 10]
    assert torch.allclose(run["sharpness"], torch.full((5,), top, dtype=torch.float64), rtol=1e-8)
    w, expected = w0.T.clone(), []   # GD on the quadratic, written out independently
    for _ in range(11):
        r = x @ w - y
        expected.append((r ** 2).mean().item())
        w = w - 0.05 * 2 * x.T @ r / len(x)
    assert run["loss"].tolist() == pytest.approx(expected, rel=1e-10)


def test_divergence_past_two_over_lr_stops_with_inf():
    x, _, _, probe = _problem(lr=1e-3, steps=1)
    top = probe["sharpness"][0].item()
    _, _, _, run = _problem(lr=2.5 / top, steps=5000)   # η·λ_max = 2.5 > 2: |1 − ηλ| > 1
    assert math.isinf(run["loss"][-1].item()) and len(run["loss"]) < 5001


def test_bad_lr_is_refused():
    with pytest.raises(ValueError, match="lr"):
        _problem(lr=-0.1, steps=3)
