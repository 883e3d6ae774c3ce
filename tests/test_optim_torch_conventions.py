"""dldna_helpers.optim follows torch.optim beyond the basic update: maximize, amsgrad, tensor and
NumPy learning rates, sparse gradients, complex parameters, and Sophia's refresh schedule.

Every comparison runs in float64 against torch.optim (its per-tensor loop, the CPU default) where
torch has the algorithm, and against the equivalent run on the negated loss where it has not.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from dldna_helpers import optim as ours

STEPS = 60


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def small_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 3)).double()


def data(n_batches: int = 6) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(7)
    return [(torch.randn(8, 5, generator=gen, dtype=torch.float64), torch.randint(0, 3, (8,), generator=gen))
            for _ in range(n_batches)]


def flat(params) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in params])


def train(make, *, sign: float = 1.0, steps: int = STEPS, model: nn.Module | None = None) -> nn.Module:
    """``steps`` steps on cross entropy times ``sign`` (−1: the negated loss); Sophia as the loop drives it."""
    model = model or small_model()
    opt = make(model.parameters())
    loss_fn = lambda out, y: sign * F.cross_entropy(out, y)  # noqa: E731
    batches = data()
    for t in range(steps):
        x, y = batches[t % len(batches)]
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        if getattr(opt, "hessian_due", lambda: False)():
            torch.manual_seed(t)                       # the estimate's random draws, the same in both runs
            opt.update_hessian(model, x, y, loss_fn)
        opt.step()
    return model


def assert_same(a: nn.Module, b: nn.Module, atol: float = 1e-12) -> None:
    moved = (flat(a.parameters()) - flat(small_model().parameters())).abs().max()
    assert moved > 1e-3, "the run must actually move the parameters"
    torch.testing.assert_close(flat(a.parameters()), flat(b.parameters()), rtol=0, atol=atol)


# (ours, torch.optim, keyword arguments for both)
WITH_TORCH = [
    (ours.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (ours.AdaGrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
    (ours.RMSProp, torch.optim.RMSprop, dict(lr=1e-2, centered=True, momentum=0.5)),
    (ours.Adadelta, torch.optim.Adadelta, dict(lr=0.5, weight_decay=0.1)),
    (ours.Adam, torch.optim.Adam, dict(lr=1e-2, weight_decay=0.1)),
    (ours.AdamW, torch.optim.AdamW, dict(lr=1e-2)),
    (ours.Adafactor, torch.optim.Adafactor, dict(lr=0.05)),
]


def _id(case) -> str:
    return f"{case[0].__name__}-" + ",".join(f"{k}={v}" for k, v in case[2].items())


# ------------------------------------------------------------------ maximize
@pytest.mark.parametrize("case", WITH_TORCH, ids=[_id(c) for c in WITH_TORCH])
def test_maximize_matches_torch(case):
    mine, reference, kwargs = case
    assert_same(train(lambda ps: mine(ps, maximize=True, **kwargs)),
                train(lambda ps: reference(ps, maximize=True, **kwargs)))


# (ours, keyword arguments) for the optimizers torch.optim does not have, and Adafactor once more
NO_TORCH = [
    (ours.Lion, dict(lr=3e-3, weight_decay=0.1)),
    (ours.Sophia, dict(lr=1e-2, k=4, estimator="hutchinson")),
    (ours.Adafactor, dict(lr=0.05, weight_decay=0.1)),
]


@pytest.mark.parametrize("cls, kwargs", NO_TORCH, ids=[c.__name__ for c, _ in NO_TORCH])
def test_maximize_is_minimizing_the_negated_loss(cls, kwargs):
    maximized = train(lambda ps: cls(ps, maximize=True, **kwargs), sign=-1.0)
    minimized = train(lambda ps: cls(ps, **kwargs), sign=1.0)
    assert_same(maximized, minimized)


def test_sophia_gnb_maximize_negates_the_curvature_estimate():
    """GNB estimates the Gauss–Newton matrix of cross entropy whatever the loss: maximizing must
    store −ĥ, the curvature of the objective it minimizes (−loss)."""
    model = small_model()
    x, _ = data()[0]
    estimates = []
    for maximize in (False, True):
        opt = ours.Sophia(model.parameters(), betas=(0.9, 0.0), maximize=maximize)   # β2 = 0: h = ĥ
        torch.manual_seed(3)
        opt.update_hessian(model, x, None)
        estimates.append(flat(opt.state[p]["hessian"] for p in model.parameters()))
    assert estimates[0].abs().max() > 0
    torch.testing.assert_close(estimates[1], -estimates[0], rtol=0, atol=0)


# ------------------------------------------------------------------ amsgrad
@pytest.mark.parametrize("mine, reference, kwargs", [
    (ours.Adam, torch.optim.Adam, dict(lr=1e-2)),
    (ours.Adam, torch.optim.Adam, dict(lr=1e-2, betas=(0.8, 0.9), weight_decay=0.1, maximize=True)),
    (ours.AdamW, torch.optim.AdamW, dict(lr=1e-2, betas=(0.5, 0.9), weight_decay=0.3)),
], ids=["Adam", "Adam-wd-maximize", "AdamW"])
def test_amsgrad_matches_torch(mine, reference, kwargs):
    with_max = train(lambda ps: mine(ps, amsgrad=True, **kwargs), steps=200)
    assert_same(with_max, train(lambda ps: reference(ps, amsgrad=True, **kwargs), steps=200))
    without = train(lambda ps: mine(ps, **kwargs), steps=200)
    assert (flat(with_max.parameters()) - flat(without.parameters())).abs().max() > 1e-4, \
        "amsgrad must change this run, or the comparison proves nothing"


def test_amsgrad_state_round_trips():
    model = small_model()
    opt = ours.Adam(model.parameters(), lr=1e-2, amsgrad=True)
    train(lambda ps: opt, steps=3, model=model)
    assert all("max_exp_avg_sq" in opt.state[p] for p in model.parameters())
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    other = ours.Adam(small_model().parameters(), lr=1e-2, amsgrad=True)
    other.load_state_dict(torch.load(buffer, weights_only=True))
    assert other.param_groups[0]["amsgrad"] is True


# ------------------------------------------------------------------ lr as a tensor or NumPy number
LR_FORMS = {
    "tensor-float32": lambda lr: torch.tensor(lr),                     # torch's default dtype: float32 steps
    "tensor-float64": lambda lr: torch.tensor(lr, dtype=torch.float64),
    "tensor-shape-1": lambda lr: torch.tensor([lr], dtype=torch.float64),
    "numpy-float32": np.float32,
    "numpy-float64": np.float64,
}


@pytest.mark.parametrize("form", LR_FORMS)
@pytest.mark.parametrize("case", WITH_TORCH, ids=[_id(c) for c in WITH_TORCH])
def test_lr_forms_match_torch(case, form):
    mine, reference, kwargs = case
    kwargs = dict(kwargs)
    lr = LR_FORMS[form](kwargs.pop("lr"))
    assert_same(train(lambda ps: mine(ps, lr=lr, **kwargs)), train(lambda ps: reference(ps, lr=lr, **kwargs)))


@pytest.mark.parametrize("cls, kwargs", NO_TORCH, ids=[c.__name__ for c, _ in NO_TORCH])
def test_lr_forms_equal_the_float_without_torch_reference(cls, kwargs):
    """A float64 tensor and a NumPy float64 hold the same number as the float: identical runs."""
    base = train(lambda ps: cls(ps, **kwargs))
    for form in (lambda lr: torch.tensor(lr, dtype=torch.float64), np.float64):
        other = {**kwargs, "lr": form(kwargs["lr"])}
        assert_same(train(lambda ps: cls(ps, **other)), base, atol=0)


def test_tensor_lr_follows_a_scheduler_like_torch():
    sched = lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.9)  # noqa: E731
    runs = []
    for cls in (ours.Adam, torch.optim.Adam):
        model = small_model()
        opt = cls(model.parameters(), lr=torch.tensor(1e-2, dtype=torch.float64))
        scheduler = sched(opt)
        for x, y in data() * 3:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
            scheduler.step()
        runs.append(model)
    assert_same(*runs)


BAD_LR = {
    "tensor-negative": (torch.tensor(-0.1), ValueError, "lr=-0.1"),
    "tensor-nan": (torch.tensor(float("nan")), ValueError, "lr=nan"),
    "tensor-two-elements": (torch.tensor([0.1, 0.2]), ValueError, "one real number"),
    "tensor-complex": (torch.tensor(0.1j), ValueError, "one real number"),
    "numpy-negative": (np.float32(-1.0), ValueError, "lr=-1.0 is invalid"),
    "numpy-nan": (np.float64("nan"), ValueError, "lr=nan"),
    "bool": (True, TypeError, "lr must be a number"),
    "numpy-array": (np.array([0.1]), TypeError, "lr must be a number"),
}


@pytest.mark.parametrize("cls", [ours.SGD, ours.AdaGrad, ours.RMSProp, ours.Adadelta, ours.Adam, ours.AdamW,
                                 ours.Lion, ours.Sophia, ours.Adafactor])
@pytest.mark.parametrize("lr, error, message", BAD_LR.values(), ids=BAD_LR)
def test_bad_lr_forms_are_refused(cls, lr, error, message):
    with pytest.raises(error, match=message):
        cls(small_model().parameters(), lr=lr)


@pytest.mark.parametrize("cls", [ours.SGD, ours.Adam, ours.Lion])
def test_maximize_and_amsgrad_must_be_booleans(cls):
    with pytest.raises(TypeError, match="maximize must be True or False"):
        cls(small_model().parameters(), maximize="no")
    if cls is ours.Adam:
        with pytest.raises(TypeError, match="amsgrad must be True or False"):
            cls(small_model().parameters(), amsgrad=1)


# ------------------------------------------------------------------ sparse gradients
class Bag(nn.Module):
    """An embedding table with sparse gradients followed by a dense linear layer."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.emb = nn.Embedding(12, 4, sparse=True).double()
        self.out = nn.Linear(4, 3).double()

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.out(torch.tanh(self.emb(idx)).mean(dim=1))


def run_bag(make, steps: int = 40, *, sparse: bool = True) -> nn.Module:
    model = Bag()
    model.emb.sparse = sparse
    opt = make(model.parameters())
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        idx = torch.randint(0, 8, (5, 3), generator=gen)        # repeats within a batch; rows 8–11 never
        idx[:, 0] = idx[:, 1]                                    # (and certain duplicates, so coalescing matters)
        y = torch.randint(0, 3, (5,), generator=gen)
        opt.zero_grad()
        F.cross_entropy(model(idx), y).backward()
        assert model.emb.weight.grad.is_sparse == sparse
        opt.step()
    return model


@pytest.mark.filterwarnings("ignore:Sparse invariant checks")   # torch.optim.Adagrad's own
@pytest.mark.parametrize("kwargs", [dict(lr=0.1), dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.2, eps=1e-6),
                                    dict(lr=0.1, maximize=True)], ids=["default", "decay-init-eps", "maximize"])
def test_adagrad_sparse_gradients_match_torch(kwargs):
    a = run_bag(lambda ps: ours.AdaGrad(ps, **kwargs))
    b = run_bag(lambda ps: torch.optim.Adagrad(ps, **kwargs))
    torch.testing.assert_close(flat(a.parameters()), flat(b.parameters()), rtol=0, atol=1e-12)
    untouched = Bag().emb.weight[8:]
    assert torch.equal(a.emb.weight[8:], untouched), "rows without a gradient must not move"
    assert (a.emb.weight[:8] - Bag().emb.weight[:8]).abs().max() > 1e-2
    # a sparse gradient is only a cheaper way to write the same zeros: the dense run agrees
    dense = run_bag(lambda ps: ours.AdaGrad(ps, **kwargs), sparse=False)
    torch.testing.assert_close(flat(a.parameters()), flat(dense.parameters()), rtol=0, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Sparse invariant checks")
def test_adagrad_sparse_with_weight_decay_is_refused_like_torch():
    for cls in (ours.AdaGrad, torch.optim.Adagrad):
        with pytest.raises(RuntimeError, match="weight_decay option is not compatible with sparse gradients"):
            run_bag(lambda ps: cls(ps, lr=0.1, weight_decay=0.1), steps=1)


def test_sgd_sparse_gradients_match_torch():
    kwargs = dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)
    a = run_bag(lambda ps: ours.SGD(ps, **kwargs))
    b = run_bag(lambda ps: torch.optim.SGD(ps, **kwargs))
    torch.testing.assert_close(flat(a.parameters()), flat(b.parameters()), rtol=0, atol=1e-12)


REFUSE_SPARSE = [ours.Adam, ours.AdamW, ours.RMSProp, ours.Adafactor, ours.Lion, ours.Sophia]


@pytest.mark.parametrize("cls", REFUSE_SPARSE, ids=[c.__name__ for c in REFUSE_SPARSE])
def test_sparse_gradients_refused_before_any_parameter_moves(cls):
    model = Bag()
    # the dense layer first in the group: a refused step must not have moved it already
    opt = cls([model.out.weight, model.out.bias, model.emb.weight])
    F.cross_entropy(model(torch.tensor([[1, 2, 3]])), torch.tensor([0])).backward()
    before = flat(model.parameters())
    with pytest.raises(RuntimeError, match=f"^{cls.__name__} does not support sparse gradients"):
        opt.step()
    assert torch.equal(flat(model.parameters()), before)


# ------------------------------------------------------------------ complex parameters
class ComplexFit(nn.Module):
    """A complex linear map and bias fitted to complex targets; the loss |·|² + |·|⁴ is real."""

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(2)
        self.w = nn.Parameter(torch.randn(3, 4, generator=gen, dtype=torch.complex128))
        self.b = nn.Parameter(torch.randn(3, generator=gen, dtype=torch.complex128))
        self.x = torch.randn(4, 10, generator=gen, dtype=torch.complex128)
        self.target = torch.randn(3, 10, generator=gen, dtype=torch.complex128)

    def loss(self) -> torch.Tensor:
        r = (self.w @ self.x + self.b[:, None] - self.target).abs()
        return (r ** 2).mean() + 0.1 * (r ** 4).mean()


def run_complex(make, steps: int = 80) -> torch.Tensor:
    model = ComplexFit()
    opt = make(model.parameters())
    for _ in range(steps):
        opt.zero_grad()
        model.loss().backward()
        opt.step()
    return flat(model.parameters())


COMPLEX = [
    (ours.Adam, torch.optim.Adam, dict(lr=1e-2)),
    (ours.Adam, torch.optim.Adam, dict(lr=1e-2, weight_decay=0.1, amsgrad=True, maximize=True)),
    (ours.AdamW, torch.optim.AdamW, dict(lr=1e-2, weight_decay=0.1, amsgrad=True)),
    (ours.RMSProp, torch.optim.RMSprop, dict(lr=1e-2)),
    (ours.RMSProp, torch.optim.RMSprop, dict(lr=1e-2, centered=True, momentum=0.5, weight_decay=0.1)),
    (ours.AdaGrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1)),
    (ours.Adadelta, torch.optim.Adadelta, dict(lr=0.5, weight_decay=0.1)),
    (ours.SGD, torch.optim.SGD, dict(lr=1e-2, momentum=0.9, nesterov=True)),
]


@pytest.mark.parametrize("case", COMPLEX, ids=[_id(c) for c in COMPLEX])
def test_complex_parameters_match_torch(case):
    mine, reference, kwargs = case
    a, b = run_complex(lambda ps: mine(ps, **kwargs)), run_complex(lambda ps: reference(ps, **kwargs))
    assert (a - flat(ComplexFit().parameters())).abs().max() > 1e-2
    torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


REFUSE_COMPLEX = [ours.Adafactor, ours.Lion, ours.Sophia]


@pytest.mark.parametrize("cls", REFUSE_COMPLEX, ids=[c.__name__ for c in REFUSE_COMPLEX])
def test_complex_parameters_refused(cls):
    model = ComplexFit()
    real = nn.Parameter(torch.ones(2, dtype=torch.float64))
    opt = cls([real, *model.parameters()])
    (model.loss() + real.sum()).backward()
    before = [p.detach().clone() for p in (real, *model.parameters())]
    with pytest.raises(RuntimeError, match=f"^{cls.__name__} does not support complex parameters"):
        opt.step()
    assert all(torch.equal(b, p) for b, p in zip(before, (real, *model.parameters())))


def test_sophia_update_hessian_refuses_complex_parameters():
    model = ComplexFit()
    opt = ours.Sophia(model.parameters())
    with pytest.raises(RuntimeError, match="Sophia does not support complex parameters"):
        opt.update_hessian(lambda x: model.w @ x, model.x, None)


# ------------------------------------------------------------------ Sophia's refresh schedule
class UnusedFirst(nn.Module):
    """The first registered layer is never used, so its parameters never get a gradient."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.unused = nn.Linear(5, 5)
        self.net = nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 3))
        self.double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def drive_sophia(model: nn.Module, opt: ours.Sophia, start: int, steps: int) -> list[int]:
    """The training loop's protocol; returns the steps before which the Hessian was refreshed."""
    refreshed, batches = [], data()
    for t in range(start, start + steps):
        x, y = batches[t % len(batches)]
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        if opt.hessian_due():
            torch.manual_seed(t)
            opt.update_hessian(model, x, y)
            refreshed.append(t)
        opt.step()
    return refreshed


def test_sophia_schedule_ignores_parameters_without_gradients():
    model = UnusedFirst()
    opt = ours.Sophia(model.parameters(), lr=1e-2, k=3)
    assert drive_sophia(model, opt, 0, 13) == [0, 3, 6, 9, 12]
    assert opt.hessian_updates == 5 and opt.steps == 13


def test_sophia_schedule_survives_state_dict_round_trip():
    straight = UnusedFirst()
    opt = ours.Sophia(straight.parameters(), lr=1e-2, k=3)
    expected = drive_sophia(straight, opt, 0, 11)

    first = UnusedFirst()
    opt1 = ours.Sophia(first.parameters(), lr=1e-2, k=3)
    drive_sophia(first, opt1, 0, 4)                      # saved between two refreshes
    buffer = io.BytesIO()
    torch.save({"model": first.state_dict(), "opt": opt1.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed = UnusedFirst()
    opt2 = ours.Sophia(resumed.parameters(), lr=1e-2, k=3)
    resumed.load_state_dict(saved["model"])
    opt2.load_state_dict(saved["opt"])
    assert (opt2.steps, opt2.hessian_updates) == (4, 2)
    assert drive_sophia(resumed, opt2, 4, 7) == [t for t in expected if t >= 4]
    torch.testing.assert_close(flat(resumed.parameters()), flat(straight.parameters()), rtol=0, atol=0)


def test_sophia_state_dict_without_counter_is_refused():
    model = UnusedFirst()
    opt = ours.Sophia(model.parameters())
    state = opt.state_dict()
    del state["steps"]
    with pytest.raises(ValueError, match="no 'steps' counter"):
        ours.Sophia(model.parameters()).load_state_dict(state)
