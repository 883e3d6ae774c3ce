"""Reference parity of dldna_helpers.optim: torch.optim where it exists, the papers' rules otherwise.

Every optimizer is run on the same small problem (a conv layer, so Adafactor factors a 4-D
tensor, and a linear layer; biases are vectors) from the same start, on the same batches.
"""
from __future__ import annotations

import copy
import io
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from dldna_helpers import optim as ours
from dldna_helpers.optim import state_bytes

STEPS = 200
N_BATCHES = 8


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_model(dtype: torch.dtype = torch.float64, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.Tanh(), nn.Flatten(), nn.Linear(27, 4))
    return model.to(dtype)


def batches(dtype: torch.dtype = torch.float64) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(123)
    return [(torch.randn(6, 2, 5, 5, generator=gen, dtype=dtype), torch.randint(0, 4, (6,), generator=gen))
            for _ in range(N_BATCHES)]


def flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def run(make_optimizer, steps: int = STEPS, dtype: torch.dtype = torch.float64, scheduler=None,
        model: nn.Module | None = None, start: int = 0) -> tuple[nn.Module, torch.optim.Optimizer]:
    model = model or tiny_model(dtype)
    optimizer = make_optimizer(model.parameters())
    sched = scheduler(optimizer) if scheduler else None
    data = batches(dtype)
    for t in range(start, start + steps):
        x, y = data[t % N_BATCHES]
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        if sched is not None:
            sched.step()
    return model, optimizer


# (our class, torch.optim class, keyword arguments shared by both)
PARITY = [
    (ours.SGD, torch.optim.SGD, dict(lr=0.1)),
    (ours.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (ours.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (ours.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=1e-2)),
    (ours.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2)),
    (ours.AdaGrad, torch.optim.Adagrad, dict(lr=0.1)),
    (ours.AdaGrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=1e-2,
                                             initial_accumulator_value=0.1, eps=1e-6)),
    (ours.RMSProp, torch.optim.RMSprop, dict(lr=1e-2)),
    (ours.RMSProp, torch.optim.RMSprop, dict(lr=1e-2, alpha=0.9, centered=True, momentum=0.5, weight_decay=1e-2)),
    (ours.RMSProp, torch.optim.RMSprop, dict(lr=1e-3, momentum=0.9)),
    (ours.Adadelta, torch.optim.Adadelta, dict()),
    (ours.Adadelta, torch.optim.Adadelta, dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    (ours.Adam, torch.optim.Adam, dict(lr=1e-2)),
    (ours.Adam, torch.optim.Adam, dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    (ours.AdamW, torch.optim.AdamW, dict(lr=1e-2)),
    (ours.AdamW, torch.optim.AdamW, dict(lr=1e-2, betas=(0.5, 0.9), weight_decay=0.3)),
    (ours.Adafactor, torch.optim.Adafactor, dict()),
    (ours.Adafactor, torch.optim.Adafactor, dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=2.0,
                                                 weight_decay=0.1)),
]


def _id(case) -> str:
    return f"{case[0].__name__}-{'-'.join(f'{k}={v}' for k, v in case[2].items()) or 'defaults'}"


@pytest.mark.parametrize("case", PARITY, ids=[_id(c) for c in PARITY])
def test_matches_torch_float64(case):
    mine, reference, kwargs = case
    a, _ = run(lambda ps: mine(ps, **kwargs))
    b, _ = run(lambda ps: reference(ps, **kwargs))
    moved = (flat(a) - flat(tiny_model())).abs().max()
    assert moved > 1e-3, "the test problem must actually move the parameters"
    torch.testing.assert_close(flat(a), flat(b), rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", PARITY[1::3], ids=[_id(c) for c in PARITY[1::3]])
def test_matches_torch_float32(case):
    mine, reference, kwargs = case
    a, _ = run(lambda ps: mine(ps, **kwargs), steps=5, dtype=torch.float32)
    b, _ = run(lambda ps: reference(ps, **kwargs), steps=5, dtype=torch.float32)
    torch.testing.assert_close(flat(a), flat(b), rtol=0, atol=1e-6)


# ------------------------------------------------------------------ Adafactor against the paper
def test_adafactor_matches_paper_algorithm():
    """Shazeer & Stern (2018), Alg. 4 with the defaults of Sec. 9 (β̂2t = 1 − t^−0.8, ρt = min(1e−2, 1/√t),
    d = 1, ε2 = 1e−3): row and column *sums* of G² + ε1, V̂ = R·C / 1ᵀR, no first moment."""
    eps1, eps2, d = 1e-30, 1e-3, 1.0
    model = tiny_model()
    params = list(model.parameters())
    stats = [None] * len(params)
    data = batches()
    for t in range(1, STEPS + 1):
        x, y = data[(t - 1) % N_BATCHES]
        grads = torch.autograd.grad(F.cross_entropy(model(x), y), params)
        with torch.no_grad():
            beta2 = 1 - t ** -0.8
            rho = min(1e-2, 1 / math.sqrt(t))
            for i, (p, g) in enumerate(zip(params, grads)):
                alpha = max(eps2, float(p.pow(2).mean().sqrt())) * rho
                g2 = g * g + eps1
                if g.dim() > 1:
                    rows, cols = g2.sum(-1, keepdim=True), g2.sum(-2, keepdim=True)
                    if stats[i] is None:
                        stats[i] = [torch.zeros_like(rows), torch.zeros_like(cols)]
                    stats[i][0] = beta2 * stats[i][0] + (1 - beta2) * rows
                    stats[i][1] = beta2 * stats[i][1] + (1 - beta2) * cols
                    v_hat = stats[i][0] * stats[i][1] / stats[i][0].sum(-2, keepdim=True)
                else:
                    stats[i] = (1 - beta2) * g2 if stats[i] is None else beta2 * stats[i] + (1 - beta2) * g2
                    v_hat = stats[i]
                u = g / v_hat.sqrt()
                u_hat = u / max(1.0, float(u.pow(2).mean().sqrt()) / d)
                p -= alpha * u_hat
    a, _ = run(lambda ps: ours.Adafactor(ps, eps=(1e-15, eps2)))
    # ε1 enters differently (bound on V̂ vs. added to G²); with tiny ε1 both are the same algorithm
    torch.testing.assert_close(flat(a), flat(model), rtol=0, atol=1e-10)


# ------------------------------------------------------------------ Lion against the paper
def test_lion_matches_paper_rule():
    """Chen et al. (2023), Program 1: c = β1·m + (1−β1)·g; θ ← θ − lr·(sign(c) + λθ); m ← β2·m + (1−β2)·g."""
    lr, beta1, beta2, wd = 3e-3, 0.9, 0.99, 0.1
    model = tiny_model()
    params = list(model.parameters())
    momenta = [torch.zeros_like(p) for p in params]
    data = batches()
    for t in range(STEPS):
        x, y = data[t % N_BATCHES]
        grads = torch.autograd.grad(F.cross_entropy(model(x), y), params)
        with torch.no_grad():
            for p, g, m in zip(params, grads, momenta):
                c = beta1 * m + (1 - beta1) * g
                p.copy_(p - lr * (torch.sign(c) + wd * p))
                m.copy_(beta2 * m + (1 - beta2) * g)
    a, _ = run(lambda ps: ours.Lion(ps, lr=lr, betas=(beta1, beta2), weight_decay=wd))
    torch.testing.assert_close(flat(a), flat(model), rtol=0, atol=1e-12)


def test_lion_betas_are_not_interchangeable():
    """m_t = c_t (a single beta) is a different algorithm: the two betas must matter separately."""
    a, _ = run(lambda ps: ours.Lion(ps, lr=3e-3, betas=(0.9, 0.99)), steps=50)
    b, _ = run(lambda ps: ours.Lion(ps, lr=3e-3, betas=(0.99, 0.9)), steps=50)
    assert (flat(a) - flat(b)).abs().max() > 1e-3


# ------------------------------------------------------------------ Sophia
class Separable(nn.Module):
    """Output = the parameters themselves, so a separable loss has an exactly diagonal Hessian."""

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(5)
        self.w = nn.Parameter(torch.randn(3, 4, generator=gen, dtype=torch.float64))
        self.b = nn.Parameter(torch.randn(5, generator=gen, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.w.flatten(), self.b])


CURV = torch.linspace(-1.0, 4.0, 17, dtype=torch.float64)      # includes negative curvature
SHIFT = torch.linspace(1.0, -2.0, 17, dtype=torch.float64)


def separable_loss(out: torch.Tensor, _target: torch.Tensor) -> torch.Tensor:
    # L = Σ ½·a·θ² + s·θ + 0.1·θ⁴  →  ∂²L/∂θ² = a + 1.2·θ² (diagonal, exact)
    return (0.5 * CURV * out**2 + SHIFT * out + 0.1 * out**4).sum()


def test_sophia_matches_paper_rule_hutchinson():
    """Liu et al. (2023), Alg. 3 with Hutchinson's estimator on a separable loss, where u⊙(Hu) equals
    diag(H) exactly for every Rademacher u, so the reference needs no random numbers."""
    lr, beta1, beta2, rho, wd, eps, k = 0.05, 0.9, 0.95, 0.5, 0.1, 1e-12, 3
    ref = [p.detach().clone() for p in Separable().parameters()]
    m = [torch.zeros_like(p) for p in ref]
    h = [torch.zeros_like(p) for p in ref]
    model = Separable()
    opt = ours.Sophia(model.parameters(), lr=lr, betas=(beta1, beta2), rho=rho, weight_decay=wd, eps=eps,
                      k=k, estimator="hutchinson")
    x = y = torch.zeros(1)
    for t in range(60):
        # reference, written from the paper
        theta = torch.cat([p.flatten() for p in ref])
        grad = CURV * theta + SHIFT + 0.4 * theta**3
        diag = CURV + 1.2 * theta**2
        sizes = [p.numel() for p in ref]
        for i, (g_i, d_i) in enumerate(zip(grad.split(sizes), diag.split(sizes))):
            g_i, d_i = g_i.view_as(ref[i]), d_i.view_as(ref[i])
            m[i] = beta1 * m[i] + (1 - beta1) * g_i
            if t % k == 0:
                h[i] = beta2 * h[i] + (1 - beta2) * d_i
            ref[i] = ref[i] - lr * wd * ref[i]
            ref[i] = ref[i] - lr * torch.clamp(m[i] / torch.maximum(rho * h[i], torch.tensor(eps)), -1, 1)
        # ours, driven like the training loop drives it
        opt.zero_grad()
        separable_loss(model(x), y).backward()
        if opt.hessian_due():
            opt.update_hessian(model, x, y, separable_loss)
        opt.step()
    assert opt.hessian_updates == 20
    torch.testing.assert_close(flat(model), torch.cat([p.flatten() for p in ref]), rtol=0, atol=1e-12)


def _unflatten(model: nn.Module, vec: torch.Tensor) -> dict[str, torch.Tensor]:
    named = list(model.named_parameters())
    chunks = vec.split([p.numel() for _, p in named])
    return {name: c.view(p.shape) for (name, p), c in zip(named, chunks)}


def _exact_hessian_diag(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    loss_of = lambda v: F.cross_entropy(torch.func.functional_call(model, _unflatten(model, v), (x,)), y)  # noqa: E731
    return torch.autograd.functional.hessian(loss_of, flat(model)).diagonal()


def _mean_estimate(estimator: str, model: nn.Module, x, y, n: int) -> tuple[torch.Tensor, float]:
    """Mean of n single-batch estimates ĥ and the norm of its standard error (from the sample)."""
    opt = ours.Sophia(model.parameters(), betas=(0.9, 0.0), estimator=estimator)  # β2 = 0: h = latest ĥ
    torch.manual_seed(0)
    samples = []
    for _ in range(n):
        opt.update_hessian(model, x, y, nn.CrossEntropyLoss())
        samples.append(torch.cat([opt.state[p]["hessian"].flatten() for p in model.parameters()]))
    stacked = torch.stack(samples)
    return stacked.mean(0), math.sqrt(float(stacked.var(0).sum()) / n)


def test_hutchinson_estimates_hessian_diagonal():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    x, y = torch.randn(10, 3, dtype=torch.float64), torch.randint(0, 3, (10,))
    exact = _exact_hessian_diag(model, x, y)
    mean, standard_error = _mean_estimate("hutchinson", model, x, y, 500)
    assert float((mean - exact).norm()) < 4 * standard_error    # unbiased: the error is only noise
    assert float((mean - exact).norm()) < 0.3 * float(exact.norm())


def test_gnb_estimates_gauss_newton_diagonal():
    """E[B·ĝ⊙ĝ] over labels sampled from the model equals diag of the Gauss–Newton matrix
    (1/B)·Σ_b Jᵀ(diag(p) − ppᵀ)J, computed here by enumerating every label of every sample."""
    torch.manual_seed(2)
    model = nn.Linear(4, 3).double()
    x = torch.randn(8, 4, dtype=torch.float64)
    params = list(model.parameters())
    gn = torch.zeros_like(flat(model))
    probs = F.softmax(model(x), dim=1).detach()
    for b in range(len(x)):
        for c in range(3):
            g = torch.autograd.grad(F.cross_entropy(model(x[b:b + 1]), torch.tensor([c])), params)
            gn += probs[b, c] * torch.cat([gi.flatten() for gi in g]) ** 2
    gn /= len(x)
    mean, standard_error = _mean_estimate("gnb", model, x, torch.zeros(8, dtype=torch.long), 500)
    assert float((mean - gn).norm()) < 4 * standard_error
    assert float((mean - gn).norm()) < 0.2 * float(gn.norm())


@pytest.mark.parametrize("estimator", ["gnb", "hutchinson"])
def test_update_hessian_leaves_grads_alone(estimator):
    model = tiny_model()
    x, y = batches()[0]
    F.cross_entropy(model(x), y).backward()
    before = [p.grad.clone() for p in model.parameters()]
    opt = ours.Sophia(model.parameters(), estimator=estimator)
    opt.update_hessian(model, x, y, nn.CrossEntropyLoss())
    for p, g in zip(model.parameters(), before):
        assert torch.equal(p.grad, g)
    assert any(opt.state[p]["hessian"].abs().sum() > 0 for p in model.parameters())


def test_sophia_refresh_cadence_in_training_loop():
    from dldna_helpers.training import train

    model = tiny_model(torch.float32)
    x, y = batches(torch.float32)[0]
    loader = [(x, y)] * 7                       # 7 steps per epoch
    opt = ours.Sophia(model.parameters(), lr=1e-3, k=3)
    history = train(model, opt, loader, (x, y), epochs=2)
    assert not history.diverged
    assert opt.hessian_updates == len(range(0, 14, 3))   # before steps 0, 3, 6, 9, 12


# ------------------------------------------------------------------ schedulers and state_dict
def test_scheduler_changes_effective_lr():
    model = tiny_model()
    opt = ours.SGD(model.parameters(), lr=0.2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.25)
    x, y = batches()[0]
    moves = []
    for _ in range(2):
        before = flat(model)
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        grad = torch.cat([p.grad.flatten() for p in model.parameters()])
        opt.step()
        moves.append((before - flat(model)) / grad)     # the lr actually used, per coordinate
        sched.step()
    mask = grad.abs() > 1e-8
    torch.testing.assert_close(moves[0][mask], torch.full_like(moves[0][mask], 0.2))
    torch.testing.assert_close(moves[1][mask], torch.full_like(moves[1][mask], 0.05))


@pytest.mark.parametrize("mine, reference", [(ours.Adam, torch.optim.Adam), (ours.SGD, torch.optim.SGD)])
def test_scheduler_parity(mine, reference):
    sched = lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=50)  # noqa: E731
    kwargs = dict(lr=0.05, momentum=0.9) if mine is ours.SGD else dict(lr=1e-2)
    a, _ = run(lambda ps: mine(ps, **kwargs), steps=60, scheduler=sched)
    b, _ = run(lambda ps: reference(ps, **kwargs), steps=60, scheduler=sched)
    torch.testing.assert_close(flat(a), flat(b), rtol=0, atol=1e-12)


ALL = [
    lambda ps: ours.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    lambda ps: ours.AdaGrad(ps, lr=0.1),
    lambda ps: ours.RMSProp(ps, lr=1e-2, centered=True, momentum=0.5),
    lambda ps: ours.Adam(ps, lr=1e-2),
    lambda ps: ours.AdamW(ps, lr=1e-2),
    lambda ps: ours.Lion(ps, lr=3e-3, weight_decay=0.1),
    lambda ps: ours.Adafactor(ps),
    lambda ps: ours.Sophia(ps, lr=1e-2, k=4),
]


@pytest.mark.parametrize("make", ALL, ids=[f"opt{i}" for i in range(len(ALL))])
def test_state_dict_round_trip(make):
    def drive(model, opt, start, steps):
        data = batches()
        for t in range(start, start + steps):
            x, y = data[t % N_BATCHES]
            torch.manual_seed(t)                         # the Hessian estimate's random draws
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            if getattr(opt, "hessian_due", lambda: False)():
                opt.update_hessian(model, x, y, nn.CrossEntropyLoss())
            opt.step()

    straight = tiny_model()
    opt = make(straight.parameters())
    drive(straight, opt, 0, 30)

    first = tiny_model()
    opt1 = make(first.parameters())
    drive(first, opt1, 0, 13)
    buffer = io.BytesIO()
    torch.save({"model": first.state_dict(), "opt": opt1.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed = tiny_model(seed=99)                        # different weights, overwritten by the load
    opt2 = make(resumed.parameters())
    resumed.load_state_dict(saved["model"])
    opt2.load_state_dict(saved["opt"])
    drive(resumed, opt2, 13, 17)
    torch.testing.assert_close(flat(resumed), flat(straight), rtol=0, atol=0)


def test_param_groups_use_their_own_lr():
    model = tiny_model()
    conv, _, _, lin = model
    opt = ours.SGD([{"params": conv.parameters(), "lr": 0.0}, {"params": lin.parameters()}], lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    run(lambda ps: opt, steps=3, model=model)
    assert all(torch.equal(b, p) for b, p in zip(before[:2], list(model.parameters())[:2]))
    assert not torch.equal(before[2], lin.weight)


# ------------------------------------------------------------------ the original's momentum error
def test_ema_momentum_takes_ten_times_smaller_steps():
    """v = μv + g (ours, torch) vs the EMA v = μv + (1−μ)g: on a constant gradient the steady-state
    step differs by 1/(1−μ) = 10 at μ = 0.9."""
    steps = {}
    for dampening in (0.0, 0.9):
        p = nn.Parameter(torch.zeros(1, dtype=torch.float64))
        opt = ours.SGD([p], lr=0.1, momentum=0.9, dampening=dampening)
        for _ in range(300):
            before = p.detach().clone()
            p.grad = torch.ones_like(p)
            opt.step()
        steps[dampening] = float(before - p.detach())
    assert steps[0.0] / steps[0.9] == pytest.approx(10.0, rel=1e-9)


# ------------------------------------------------------------------ state size
def test_state_bytes_exact():
    model = tiny_model(torch.float32)
    n = sum(p.numel() for p in model.parameters())
    matrices = [p for p in model.parameters() if p.dim() > 1]
    factored = sum(p[..., :1].numel() + p[..., :1, :].numel() for p in matrices)  # rows + columns
    vectors = sum(p.numel() for p in model.parameters() if p.dim() == 1)
    expected = {
        "sgd": (lambda ps: ours.SGD(ps, lr=0.1), 0),
        "momentum": (lambda ps: ours.SGD(ps, lr=0.1, momentum=0.9), 4 * n),
        "adam": (lambda ps: ours.Adam(ps), 8 * n),
        "adadelta": (lambda ps: ours.Adadelta(ps), 8 * n),
        "lion": (lambda ps: ours.Lion(ps), 4 * n),
        "sophia": (lambda ps: ours.Sophia(ps), 8 * n),
        "adafactor": (lambda ps: ours.Adafactor(ps), 4 * (factored + vectors)),
        "torch_adam": (lambda ps: torch.optim.Adam(ps), 8 * n + 4 * len(list(model.parameters()))),
    }
    for name, (make, total) in expected.items():
        _, opt = run(make, steps=1, dtype=torch.float32, model=copy.deepcopy(model))
        size = state_bytes(opt)
        assert (size.total, size.n_params) == (total, n), name
    assert state_bytes(ours.Adam(model.parameters())).total == 0     # lazily created state
    with pytest.raises(TypeError, match="Optimizer"):
        state_bytes(model)


# ------------------------------------------------------------------ bad input
BAD = [
    (ours.SGD, dict(lr=-0.1), "lr=-0.1"),
    (ours.SGD, dict(lr=float("nan")), "lr=nan"),
    (ours.SGD, dict(momentum=1.0), "momentum=1.0"),
    (ours.SGD, dict(momentum=0.0, nesterov=True), "nesterov"),
    (ours.SGD, dict(momentum=0.9, dampening=0.1, nesterov=True), "dampening"),
    (ours.SGD, dict(weight_decay=-1e-4), "weight_decay"),
    (ours.AdaGrad, dict(lr_decay=-1.0), "lr_decay"),
    (ours.AdaGrad, dict(eps=-1.0), "eps"),
    (ours.RMSProp, dict(alpha=1.0), "alpha=1.0"),
    (ours.RMSProp, dict(momentum=-0.5), "momentum"),
    (ours.Adadelta, dict(rho=1.5), "rho=1.5"),
    (ours.Adadelta, dict(eps=-1e-6), "eps"),
    (ours.Adam, dict(betas=(1.0, 0.999)), "beta1=1.0"),
    (ours.Adam, dict(betas=(0.9, -0.1)), "beta2=-0.1"),
    (ours.Adam, dict(betas=(0.9,)), "pair"),
    (ours.AdamW, dict(weight_decay=-0.01), "weight_decay"),
    (ours.Lion, dict(betas=(0.9, 1.5)), "beta2=1.5"),
    (ours.Lion, dict(lr=-1e-4), "lr"),
    (ours.Sophia, dict(rho=-1.0), "rho"),
    (ours.Sophia, dict(k=0), "k=0"),
    (ours.Sophia, dict(k=2.5), "k=2.5"),
    (ours.Sophia, dict(estimator="fisher"), "gnb, hutchinson"),
    (ours.Sophia, dict(eps=0.0), "eps"),
    (ours.Adafactor, dict(d=0.5), "d=0.5"),
    (ours.Adafactor, dict(beta2_decay=0.5), "beta2_decay"),
    (ours.Adafactor, dict(eps=(None, -1.0)), "eps2"),
]


@pytest.mark.parametrize("cls, kwargs, message", BAD, ids=[f"{c.__name__}-{m}" for c, _, m in BAD])
def test_invalid_hyperparameters_raise(cls, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("+", r"\+")):
        cls(tiny_model().parameters(), **kwargs)


def test_non_numeric_lr_is_a_type_error():
    with pytest.raises(TypeError, match="lr must be a number"):
        ours.Adam(tiny_model().parameters(), lr="0.001")


def test_torch_spellings_name_the_same_classes():
    """Code written for torch.optim (``Adagrad``, ``RMSprop``) runs unchanged with ours."""
    import dldna_helpers.optim as ours

    assert ours.Adagrad is ours.AdaGrad and ours.RMSprop is ours.RMSProp
    shared = {name for name in ours.__all__ if hasattr(torch.optim, name)}
    assert {"SGD", "Adagrad", "RMSprop", "Adam", "AdamW"} <= shared


def test_the_package_docstring_lists_exactly_its_modules():
    import re
    from pathlib import Path

    import dldna_helpers

    listed = set(re.findall(r"``(\w+)``", dldna_helpers.__doc__.split("Import the module")[0]))
    folder = Path(dldna_helpers.__file__).parent
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"} | {
        p.name for p in folder.iterdir() if (p / "__init__.py").exists()}
    assert listed == modules, (listed - modules, modules - listed)
