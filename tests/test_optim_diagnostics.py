"""What 5.2 measures with the optimizers beyond parity: Sophia's clipped fraction and its
bias-corrected curvature, and Adam without bias correction (its first steps too large)."""
from __future__ import annotations

import io
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from dldna_helpers import optim as ours

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CURV = torch.tensor([4.0, 1.0, 0.25, 0.01, -1.0], dtype=torch.float64)
SHIFT = torch.tensor([1.0, -1.0, 0.5, 2.0, 0.3], dtype=torch.float64)


class Vector(nn.Module):
    """Output = the parameter vector θ, so the separable quadratic below has Hessian diag(CURV)."""

    def __init__(self) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.zeros(len(CURV), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.theta


def quadratic(out: torch.Tensor, _y: torch.Tensor) -> torch.Tensor:
    return (0.5 * CURV * out**2 + SHIFT * out).sum()


def drive(opt: ours.Sophia, model: nn.Module, steps: int) -> None:
    x = y = torch.zeros(1)
    for _ in range(steps):
        opt.zero_grad()
        quadratic(model(x), y).backward()
        if opt.hessian_due():
            opt.update_hessian(model, x, y, quadratic)
        opt.step()


def reference_sophia(steps: int, lr: float, beta1: float, beta2: float, rho: float, k: int,
                     corrected: bool) -> tuple[torch.Tensor, list[float]]:
    """Alg. 3 of Liu et al. (2023) on the quadratic (Hutchinson's ĥ = diag(H) exactly here), with
    h divided by 1 − β2ⁿ after n estimates when ``corrected``; and the clipped share per step."""
    theta, m, h, n = torch.zeros_like(CURV), torch.zeros_like(CURV), torch.zeros_like(CURV), 0
    fractions = []
    for t in range(steps):
        g = CURV * theta + SHIFT
        m = beta1 * m + (1 - beta1) * g
        if t % k == 0:
            h, n = beta2 * h + (1 - beta2) * CURV, n + 1
        h_used = h / (1 - beta2**n) if corrected else h
        ratio = m / torch.clamp(rho * h_used, min=1e-12)
        fractions.append(float((ratio.abs() >= 1).double().mean()))
        theta = theta - lr * ratio.clamp(-1, 1)
    return theta, fractions


@pytest.mark.parametrize("corrected", [False, True])
def test_sophia_clip_fractions_and_bias_correction_follow_the_rule(corrected):
    lr, beta1, beta2, rho, k = 0.05, 0.9, 0.99, 2.0, 3
    model = Vector()
    opt = ours.Sophia(model.parameters(), lr=lr, betas=(beta1, beta2), rho=rho, weight_decay=0.0, k=k,
                      estimator="hutchinson", bias_correction=corrected)
    drive(opt, model, 40)
    theta, fractions = reference_sophia(40, lr, beta1, beta2, rho, k, corrected)
    torch.testing.assert_close(model.theta.detach(), theta, rtol=0, atol=1e-12)
    assert opt.clip_fractions == pytest.approx(fractions, abs=0)
    assert len(opt.clip_fractions) == 40 and all(0 <= f <= 1 for f in fractions)


def test_bias_correction_is_what_keeps_sophia_from_clipping_everything():
    """h from 0 is 1 − 0.99ⁿ ≈ 1–4% of the curvature after n = 1…4 estimates: every ratio hits the
    clip until the steepest coordinate has nearly converged. Bias-corrected, h is the curvature itself
    and only the flat (0.01) and the negative-curvature coordinates clip: 2 of 5."""
    runs = {}
    for corrected in (False, True):
        model = Vector()
        opt = ours.Sophia(model.parameters(), lr=0.01, betas=(0.9, 0.99), rho=2.0, weight_decay=0.0, k=10,
                          estimator="hutchinson", bias_correction=corrected)
        drive(opt, model, 40)
        runs[corrected] = opt.clip_fractions
    assert runs[False][:20] == [1.0] * 20                 # every coordinate clipped
    assert runs[True] == [0.4] * 40                       # the flat and the negative one only


def test_clip_fractions_survive_a_state_dict_round_trip():
    model = Vector()
    opt = ours.Sophia(model.parameters(), lr=0.05, rho=2.0, k=3, estimator="hutchinson", bias_correction=True)
    drive(opt, model, 7)
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    other = ours.Sophia(Vector().parameters(), lr=0.05, rho=2.0, k=3, estimator="hutchinson",
                        bias_correction=True)
    other.load_state_dict(torch.load(buffer, weights_only=True))
    assert other.clip_fractions == opt.clip_fractions and len(other.clip_fractions) == 7


def test_a_pickled_sophia_keeps_its_schedule_and_diagnostic():
    """map_runs returns a worker's optimizer pickled: torch.optim pickles only defaults, state and
    groups, so Sophia must carry its counters and clip fractions itself."""
    import pickle

    model = Vector()
    opt = ours.Sophia(model.parameters(), lr=0.05, rho=2.0, k=3, estimator="hutchinson")
    drive(opt, model, 5)
    copy = pickle.loads(pickle.dumps(opt))
    assert (copy.k, copy.estimator, copy.steps, copy.hessian_updates) == (3, "hutchinson", 5, 2)
    assert copy.clip_fractions == opt.clip_fractions and len(copy.clip_fractions) == 5


def test_sophia_bias_correction_must_be_a_boolean():
    with pytest.raises(TypeError, match="bias_correction must be True or False"):
        ours.Sophia(Vector().parameters(), bias_correction="yes")


def test_adam_without_bias_correction_takes_the_predicted_first_steps():
    """A constant gradient g: uncorrected, step t is lr·(1 − β1ᵗ)/√(1 − β2ᵗ) per coordinate
    (3.16·lr at t = 1 with the default betas); corrected, it is lr at every step."""
    lr, (beta1, beta2) = 1e-3, (0.9, 0.999)
    for corrected in (True, False):
        w = nn.Parameter(torch.zeros(3, dtype=torch.float64))
        opt = ours.Adam([w], lr=lr, eps=0.0, bias_correction=corrected)
        for t in range(1, 30):
            before = w.detach().clone()
            w.grad = torch.tensor([2.0, -0.5, 1e-3], dtype=torch.float64)
            opt.step()
            step = (before - w.detach()).abs()
            expected = lr if corrected else lr * (1 - beta1**t) / math.sqrt(1 - beta2**t)
            torch.testing.assert_close(step, torch.full_like(step, expected), rtol=1e-12, atol=0)
    assert (1 - beta1) / math.sqrt(1 - beta2) == pytest.approx(3.162, abs=1e-3)


def test_adam_bias_correction_default_matches_torch():
    torch.manual_seed(0)
    model = nn.Linear(4, 3).double()
    twin = nn.Linear(4, 3).double()
    twin.load_state_dict(model.state_dict())
    mine, ref = ours.Adam(model.parameters(), lr=1e-2), torch.optim.Adam(twin.parameters(), lr=1e-2)
    x, y = torch.randn(16, 4, dtype=torch.float64), torch.randint(0, 3, (16,))
    for net, opt in ((model, mine), (twin, ref)):
        for _ in range(20):
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()
    torch.testing.assert_close(model.weight, twin.weight, rtol=0, atol=1e-12)
    with pytest.raises(TypeError, match="bias_correction must be True or False"):
        ours.Adam(model.parameters(), bias_correction=0)
