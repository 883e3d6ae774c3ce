"""Sophia where the curvature estimate is negative (Hutchinson's estimator can return h < 0):
the step must be the clipped sign step lr·sign(m), also where |m| < ρ·|h| — dividing by
ρ·|h| instead would give a small Newton-like step in a direction of negative curvature.

The loss is separable and quadratic, so its Hessian is exactly diagonal and constant and
Hutchinson's u⊙(Hu) equals diag(H) for every Rademacher u: with β2 = 0 the optimizer's h is
known exactly. Checked by planting ``(rho * h).abs()`` and a dropped ``clamp`` in
``Sophia.step`` (issue 18, item 6)."""
from __future__ import annotations

import torch
from torch import nn

from dldna_helpers.optim import Sophia

LR, RHO, BETA1 = 0.1, 1.0, 0.9
CURVATURE = torch.tensor([-4.0, -4.0, -2.0, 3.0, 3.0, -0.01], dtype=torch.float64)
SHIFT = torch.tensor([0.5, -0.5, 1.0, 0.6, -40.0, 5.0], dtype=torch.float64)


class Vector(nn.Module):
    """The model's output is its parameter vector θ (started at 0, so the gradient is SHIFT)."""

    def __init__(self) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.zeros(len(CURVATURE), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.theta


def quadratic(out: torch.Tensor, _target: torch.Tensor) -> torch.Tensor:
    return (0.5 * CURVATURE * out**2 + SHIFT * out).sum()     # H = diag(CURVATURE), g(0) = SHIFT


def test_negative_curvature_gives_the_clipped_sign_step():
    model = Vector()
    opt = Sophia(model.parameters(), lr=LR, betas=(BETA1, 0.0), rho=RHO, weight_decay=0.0, k=10,
                 estimator="hutchinson")
    x = y = torch.zeros(1)
    opt.zero_grad()
    quadratic(model(x), y).backward()
    assert opt.hessian_due()
    opt.update_hessian(model, x, y, quadratic)
    h = opt.state[model.theta]["hessian"]
    torch.testing.assert_close(h, CURVATURE, rtol=0, atol=1e-15)        # β2 = 0: h = ĥ = diag(H)
    opt.step()

    m = (1 - BETA1) * SHIFT
    negative = CURVATURE < 0
    inside = m.abs() < RHO * CURVATURE.abs()
    # the case this test is about is present: h < 0 with |m| < ρ|h| (entries 0-2)
    assert bool((negative & inside)[:3].all())
    expected = torch.where(
        negative, -LR * torch.sign(m),                                          # sign step
        -LR * torch.clamp(m / (RHO * CURVATURE), -1.0, 1.0))                    # Newton-like or clipped
    torch.testing.assert_close(model.theta.detach(), expected, rtol=0, atol=1e-15)
    # entry 3 is the Newton-like step (|m| < ρh), entry 4 the clipped one (|m| > ρh)
    theta = model.theta.detach()
    assert abs(float(theta[3])) < 0.1 * LR and abs(float(theta[4])) == LR
