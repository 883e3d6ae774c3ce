"""Exercise 1 (dldna_helpers.momentum_exercise): the solution, and the diagnosis of each common slip
by the general checker engine (the same engine and the same JavaScript as exercises 2–9)."""
from __future__ import annotations

import pytest
import torch

from dldna_helpers.checkers import check, checker_spec
from dldna_helpers.momentum_exercise import SLIPS, MomentumExercise, momentum_checker, momentum_fields

EX = MomentumExercise()
RIGHT = {"v1": 4.0, "w1": 1.6, "v2": 6.4, "w2": 0.96, "v3": 7.04, "w3": 0.256}
SPEC = checker_spec(momentum_fields(EX), "문제 1 확인")


def hint_of(name: str) -> str:
    return next(h for n, _, _, h in SLIPS if n == name)


def test_trajectory_equals_the_hand_computation():
    ws, vs = EX.trajectory()
    assert (EX.lr, EX.momentum, EX.w0) == (0.1, 0.8, 2.0)
    assert ws == pytest.approx([2.0, 1.6, 0.96, 0.256], abs=1e-12)
    assert vs == pytest.approx([0.0, 4.0, 6.4, 7.04], abs=1e-12)


def test_trajectory_matches_torch_sgd_momentum():
    """torch.optim.SGD with dampening 0 uses the same rule: buf = μ·buf + g, p −= η·buf."""
    ex = MomentumExercise(w0=-1.3, lr=0.05, momentum=0.7, steps=6)
    w = torch.tensor([ex.w0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=ex.lr, momentum=ex.momentum)
    ws = [ex.w0]
    for _ in range(ex.steps):
        opt.zero_grad()
        (w ** 2).sum().backward()
        opt.step()
        ws.append(w.item())
    assert ex.trajectory()[0] == pytest.approx(ws, abs=1e-12)


@pytest.mark.parametrize("kwargs, word", [
    ({"lr": 0}, "lr"), ({"lr": -0.1}, "lr"), ({"momentum": 1.0}, "momentum"),
    ({"momentum": -0.1}, "momentum"), ({"steps": 0}, "steps"), ({"steps": 2.5}, "steps"),
    ({"w0": float("nan")}, "w0"),
])
def test_bad_hyperparameters_are_named(kwargs, word):
    with pytest.raises(ValueError, match=word):
        MomentumExercise(**kwargs)


def test_right_answers_in_any_form_and_the_stated_precision():
    assert check({k: repr(v) for k, v in RIGHT.items()}, SPEC).all_correct
    assert check({"v1": "4", "w1": "8/5", "v2": "6,4", "w2": "0.960", "v3": "7.04", "w3": "0.256"}, SPEC).all_correct
    assert all("소수 셋째 자리까지" in f["prompt"] for f in SPEC["fields"])
    res = check({"w3": "0.26"}, SPEC)
    assert res.status["w3"] == "wrong" and "자릿수가 모자랍니다" in res.hints["w3"]


def test_no_two_slips_give_the_same_number_at_any_step():
    """With η = 1 − μ (the old 0.1 and 0.9) dampening and 'η inside v' gave the same value at every
    step; with μ = 0.8 every slip is told apart at the stated precision."""
    for f in SPEC["fields"]:
        assert all(" 또는 " not in s["hint"] for s in f["slips"]), f["key"]
    bad = MomentumExercise(lr=0.1, momentum=0.9)
    merged = checker_spec(momentum_fields(bad))["fields"][0]["slips"]
    assert any(hint_of("dampening") in s["hint"] and hint_of("lr_in_velocity") in s["hint"] for s in merged)


def slipped_trajectory(name: str, ex: MomentumExercise = EX) -> dict[str, float]:
    """What a reader who makes one slip consistently at every step would write down
    (written independently of the checker's table)."""
    w, v, out = ex.w0, 0.0, {}
    eta, mu = ex.lr, ex.momentum
    for t in range(1, ex.steps + 1):
        g = 2 * w
        if name == "dampening":
            v = mu * v + (1 - mu) * g; w = w - eta * v
        elif name == "lr_in_velocity":
            v = mu * v + eta * g; w = w - eta * v
        elif name == "negative_velocity":      # v = μv − ηg, w = w + v
            v = mu * v - eta * g; w = w + v
        elif name == "derivative":             # dL/dw taken as w
            v = mu * v + w; w = w - eta * v
        elif name == "sign_w":
            v = mu * v + g; w = w + eta * v
        elif name == "w_before_v":
            w, v = w - eta * v, mu * v + g
        elif name == "nesterov":
            v = mu * v + g; w = w - eta * (g + mu * v)
        elif name == "no_lr":
            v = mu * v + g; w = w - v
        elif name == "no_momentum_w":          # plain gradient descent (its "velocity" is just g)
            v = g; w = w - eta * g
        out[f"v{t}"], out[f"w{t}"] = v, w
    return out


@pytest.mark.parametrize("slip, first, keys", [
    ("dampening", "v1", "vw"), ("lr_in_velocity", "v1", "vw"), ("negative_velocity", "v1", "vw"),
    ("derivative", "v1", "vw"), ("sign_w", "w1", "vw"), ("w_before_v", "w1", "vw"), ("nesterov", "w1", "vw"),
    ("no_lr", "w1", "vw"), ("no_momentum_w", "w2", "w"), ("no_momentum_v", "v2", "vw"), ("w_before_v", "w1", "w"),
])
def test_each_slip_gets_its_hint_at_the_first_wrong_value(slip, first, keys):
    """A reader who makes one slip at every step gets that slip's hint at the first wrong value
    (entering all values, or only the weights), and later wrong values point back to it."""
    name = "no_momentum_w" if slip == "no_momentum_v" else slip
    answers = {k: f"{v:.6g}" for k, v in slipped_trajectory(name).items() if k[0] in keys}
    res = check(answers, SPEC)
    order = [f["key"] for f in SPEC["fields"]]
    wrong = [k for k in order if res.status[k] == "wrong"]
    assert wrong[0] == first and res.hints[first] == hint_of(slip)
    label = next(f["label"] for f in SPEC["fields"] if f["key"] == first)
    assert all(res.hints[k] == f"{label}의 오류가 이어진 결과일 수 있으니 {label}부터 고치세요." for k in wrong[1:])


def test_garbage_gets_the_formula_and_invalid_text_is_named():
    res = check({"v1": "4", "w1": "1.6", "v2": "123"}, SPEC)
    assert "v₂ = μ·v₁ + g₂이고 g₂ = 2·w₁" in res.hints["v2"]     # g_t = dL/dw(w_{t-1})
    res = check({"w1": "1.6", "w2": "zero point nine"}, SPEC)
    assert res.status["w2"] == "invalid" and "zero point nine" in res.hints["w2"]


def test_the_checker_output_holds_the_form():
    out = momentum_checker(live=False)
    assert "dldna-checker" in out.html and "문제 1 확인" in out.html
    for key in RIGHT:
        assert f"name='{key}'" in out.html
