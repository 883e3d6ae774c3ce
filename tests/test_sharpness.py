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


def _least_squares():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(40, 6, generator=gen, dtype=torch.float64)
    x[:, 0] *= 3.0
    y = torch.randn(40, 1, generator=gen, dtype=torch.float64)
    return x, y, torch.linalg.eigvalsh(2 * x.T @ x / len(x))


def _run(lr, steps, **kwargs):
    x, y, _ = _least_squares()
    model = nn.Linear(6, 1, bias=False).double()
    with torch.no_grad():
        model.weight.zero_()
    return sharpness_trajectory(model, nn.MSELoss(), x, y, lr, steps, lanczos_iter=6, **kwargs)


def test_top_eigenvalues_and_per_step_learning_rates():
    _, _, eig = _least_squares()
    run = _run([0.05] * 5 + [0.01] * 5, 10, every=5, top=3)
    assert run["eigenvalues"].shape == (3, 3)
    assert torch.allclose(run["eigenvalues"][0], eig.flip(0)[:3], rtol=1e-8)
    assert run["lr"].tolist() == [0.05] * 5 + [0.01] * 5
    assert run["final"].shape == (6,)
    with pytest.raises(ValueError, match="one learning rate per step"):
        _run([0.05] * 4, 10)
    with pytest.raises(ValueError, match="top"):
        _run(0.05, 3, top=7)


def test_the_heavy_ball_is_stable_up_to_two_plus_two_beta_over_lr():
    """On a quadratic the momentum limit is (2 + 2β)/η, not 2/η: just below it the loss falls,
    just above it the run diverges."""
    _, _, eig = _least_squares()
    top, beta = eig.max().item(), 0.9
    below = _run(0.95 * (2 + 2 * beta) / top, 3000, every=3000, momentum=beta)
    above = _run(1.05 * (2 + 2 * beta) / top, 3000, every=3000, momentum=beta)
    plain = _run(0.95 * (2 + 2 * beta) / top, 3000, every=3000)          # the same η without momentum
    assert math.isfinite(below["loss"][-1].item()) and below["loss"][-1] < below["loss"][0]
    assert math.isinf(above["loss"][-1].item())
    assert math.isinf(plain["loss"][-1].item())                            # η·λ = 3.6 > 2
    with pytest.raises(ValueError, match="momentum"):
        _run(0.1, 3, momentum=1.0)


class _Saddle(nn.Module):
    """L(w) = ½(w₀² − 4w₁²): Hessian diag(1, −4), the negative eigenvalue the larger in magnitude."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(2, dtype=torch.float64))

    def forward(self, x):
        return 0.5 * (self.w[0] ** 2 - 4 * self.w[1] ** 2) + 0 * x.sum()


def test_sharpness_is_the_largest_eigenvalue_not_the_largest_in_magnitude():
    x, y = torch.zeros(1, 1, dtype=torch.float64), torch.zeros(1)
    run = sharpness_trajectory(_Saddle(), lambda out, target: out, x, y, 0.1, 1, every=1,
                               lanczos_iter=2, top=2)
    assert run["eigenvalues"][0].tolist() == pytest.approx([1.0, -4.0])
    assert run["sharpness"][0].item() == pytest.approx(1.0)
