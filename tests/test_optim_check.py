"""dldna_helpers.optim_check: the coding parts of exercises 1 and 4 compare a reader's step() with
torch.optim. A right implementation passes; each common mistake fails, including the one that only
shows when the gradient tensor is reused (a velocity that keeps p.grad instead of a copy)."""
from __future__ import annotations

import pytest
import torch

from dldna_helpers.optim_check import MODES, compare_with_torch

HP = {"lr": 0.1, "momentum": 0.8}


def momentum_sgd(velocity_from_grad, update):
    """A momentum SGD class whose first velocity and later update are given as functions."""

    class Momentum(torch.optim.Optimizer):
        def __init__(self, params, lr, momentum):
            super().__init__(params, {"lr": lr, "momentum": momentum})

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if "v" not in state:
                        state["v"] = velocity_from_grad(p.grad)
                    else:
                        update(state["v"], p.grad, group["momentum"])
                    p.sub_(group["lr"] * state["v"])

    return Momentum


RIGHT = momentum_sgd(lambda g: g.clone(), lambda v, g, mu: v.mul_(mu).add_(g))
NOT_CLONED = momentum_sgd(lambda g: g, lambda v, g, mu: v.mul_(mu).add_(g))
DAMPENED = momentum_sgd(lambda g: 0.2 * g, lambda v, g, mu: v.mul_(mu).add_((1 - mu) * g))
FROM_ZEROS = momentum_sgd(lambda g: torch.zeros_like(g).mul_(0.8).add_(g), lambda v, g, mu: v.mul_(mu).add_(g))


class Empty(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum):
        super().__init__(params, {"lr": lr, "momentum": momentum})

    def step(self):
        raise NotImplementedError


def test_a_right_implementation_matches_in_both_ways_of_clearing_gradients():
    for cls in (RIGHT, FROM_ZEROS):        # starting from zeros_like and then mul_ is right too
        res = compare_with_torch(cls, torch.optim.SGD, HP)
        assert res.matches and set(res.differences) == set(MODES) and res.largest < 1e-12
        assert "두 방식" in res.message() and "25스텝 내내" in res.message()


def test_a_velocity_that_keeps_p_grad_itself_fails():
    """The mistake the solution names: it passes with zero_grad() (a fresh gradient tensor each step)
    and must fail once the same tensor is zeroed and refilled."""
    res = compare_with_torch(NOT_CLONED, torch.optim.SGD, HP)
    assert not res.matches
    assert "none" not in res.first_bad and res.first_bad["zeros"] == 2
    assert res.differences["zeros"][-1] > 0.1
    assert "p.grad.clone()" in res.message() and "2번째 스텝" in res.message()


def test_dampening_fails_at_the_first_step_and_says_so_in_korean():
    res = compare_with_torch(DAMPENED, torch.optim.SGD, HP)
    assert res.first_bad["none"] == 1 and not res.matches
    assert "첫 스텝에서" in res.message() and "1번째" not in res.message()


def test_an_empty_step_is_reported_not_raised():
    res = compare_with_torch(Empty, torch.optim.SGD, HP)
    assert not res.written and not res.matches and "비어 있습니다" in repr(res)


def test_adam_by_the_equations_matches_torch_adam():
    class Adam(torch.optim.Optimizer):
        def __init__(self, params, lr, betas, eps):
            super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                b1, b2 = group["betas"]
                for p in group["params"]:
                    state = self.state[p]
                    if not state:
                        state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                    state["t"] += 1
                    state["m"].mul_(b1).add_((1 - b1) * p.grad)
                    state["v"].mul_(b2).add_((1 - b2) * p.grad ** 2)
                    m_hat = state["m"] / (1 - b1 ** state["t"])
                    v_hat = state["v"] / (1 - b2 ** state["t"])
                    p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))

    assert compare_with_torch(Adam, torch.optim.Adam, {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8}).matches


def test_bad_steps_are_refused():
    with pytest.raises(ValueError, match="steps"):
        compare_with_torch(RIGHT, torch.optim.SGD, HP, steps=0)
