"""Exercise checkers (dldna_helpers.widgets): the solution, the diagnosis of common slips,
bad input, and the two views (ipywidgets and static HTML) of one output."""
from __future__ import annotations

import json
import re

import pytest
import torch

from dldna_helpers.widgets import (
    WIDGET_VIEW, MomentumExercise, diagnose, interactive_figure, interactive_frontend, momentum_checker,
    momentum_checker_html, momentum_spec, parse_number,
)

RIGHT = {"v1": 4.0, "w1": 1.6, "v2": 6.8, "w2": 0.92, "v3": 7.96, "w3": 0.124}


def hint_of(name: str) -> str:
    """The hint text of one slip, looked up by its name in the module's catalogue."""
    from dldna_helpers.widgets import _SLIPS

    return next(h for n, _, _, h in _SLIPS if n == name)


# ---------------------------------------------------------------- the solution
def test_trajectory_equals_closed_form():
    ws, vs = MomentumExercise().trajectory()
    assert ws == pytest.approx([2.0, 1.6, 0.92, 0.124], abs=1e-12)
    assert vs == pytest.approx([0.0, 4.0, 6.8, 7.96], abs=1e-12)


def test_trajectory_matches_torch_sgd_momentum():
    """torch.optim.SGD with dampening 0 uses the same rule: buf = μ·buf + g, p −= η·buf."""
    ex = MomentumExercise(w0=-1.3, lr=0.05, momentum=0.8, steps=6)
    w = torch.tensor([ex.w0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=ex.lr, momentum=ex.momentum)
    ws = [ex.w0]
    for _ in range(ex.steps):
        opt.zero_grad()
        (w ** 2).sum().backward()
        opt.step()
        ws.append(w.item())
    assert MomentumExercise(w0=-1.3, lr=0.05, momentum=0.8, steps=6).trajectory()[0] == pytest.approx(ws, abs=1e-12)


@pytest.mark.parametrize("kwargs, word", [
    ({"lr": 0}, "lr"), ({"lr": -0.1}, "lr"), ({"momentum": 1.0}, "momentum"),
    ({"momentum": -0.1}, "momentum"), ({"steps": 0}, "steps"), ({"steps": 2.5}, "steps"),
    ({"w0": float("nan")}, "w0"),
])
def test_bad_hyperparameters_are_named(kwargs, word):
    with pytest.raises(ValueError, match=word):
        MomentumExercise(**kwargs)


# ---------------------------------------------------------------- parsing
@pytest.mark.parametrize("raw, value", [
    ("1.6", 1.6), (" 1,6 ", 1.6), ("−0.25", -0.25), ("+.5", 0.5), ("1e-3", 1e-3), (7, 7.0),
    ("", None), ("   ", None), (None, None),
])
def test_parse_number_accepts(raw, value):
    assert parse_number(raw) == value


@pytest.mark.parametrize("raw", ["abc", "1.6.2", "0x10", "inf", "nan", "1_000", "١٢", "1.6\n2", float("inf")])
def test_parse_number_rejects_with_the_value_in_the_message(raw):
    with pytest.raises(ValueError, match=re.escape(repr(raw))):
        parse_number(raw)


# ---------------------------------------------------------------- diagnosis
def test_right_answers_are_accepted_as_numbers_and_strings():
    assert diagnose(RIGHT).all_correct
    as_text = {k: str(v).replace(".", ",") for k, v in RIGHT.items()}
    fb = diagnose(as_text)
    assert fb.all_correct and fb.first_wrong is None
    assert "모두 맞았습니다" in fb.text()


def test_only_weights_entered_are_judged_without_velocities():
    fb = diagnose({"w1": "1.6", "w2": "0.92", "w3": "0.124"})
    assert fb.status == {"v1": "missing", "w1": "correct", "v2": "missing", "w2": "correct",
                         "v3": "missing", "w3": "correct"}
    assert fb.first_wrong is None


def slipped_trajectory(name: str, ex: MomentumExercise = MomentumExercise()) -> dict[str, float]:
    """What a reader who makes one slip consistently at every step would write down
    (written independently of the checker's table)."""
    w, v, out = ex.w0, 0.0, {}
    eta, mu = ex.lr, ex.momentum
    for t in range(1, ex.steps + 1):
        g = 2 * w
        if name == "dampening":
            v = mu * v + (1 - mu) * g; w = w - eta * v
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
    ("dampening", "v1", "vw"), ("negative_velocity", "v1", "vw"), ("derivative", "v1", "vw"),
    ("sign_w", "w1", "vw"), ("w_before_v", "w1", "vw"), ("nesterov", "w1", "vw"), ("no_lr", "w1", "vw"),
    ("no_momentum_w", "w2", "w"), ("no_momentum_v", "v2", "vw"),
])
def test_each_slip_gets_its_hint_at_the_first_wrong_value(slip, first, keys):
    """A reader who makes one slip at every step gets that slip's hint at the first wrong value
    (entering all values, or only the weights)."""
    name = "no_momentum_w" if slip == "no_momentum_v" else slip
    answers = {k: f"{v:.6g}" for k, v in slipped_trajectory(name).items() if k[0] in keys}
    fb = diagnose(answers)
    assert not fb.all_correct
    assert fb.first_wrong == first
    assert hint_of(slip) in fb.hint
    assert fb.status[first] == "wrong"
    assert f"처음 틀린 값 {fb.labels[first]}" in fb.text()


def test_slips_that_give_the_same_number_are_both_named():
    """With η = 1 − μ = 0.1, 'dampening' and 'η inside v' give the same v₁ = 0.4."""
    fb = diagnose({"v1": "0.4"})
    assert hint_of("dampening") in fb.hint and hint_of("lr_in_velocity") in fb.hint


def test_weights_only_slips_are_diagnosed_without_velocities():
    wrong = slipped_trajectory("w_before_v")
    fb = diagnose({k: f"{v:.6g}" for k, v in wrong.items() if k.startswith("w")})
    assert fb.first_wrong == "w1" and hint_of("w_before_v") in fb.hint


def test_rounding_gets_a_rounding_hint_and_garbage_gets_the_formula():
    fb = diagnose({"w1": "1.6", "w2": "0.92", "w3": "0.12"})
    assert fb.first_wrong == "w3" and "반올림" in fb.hint
    fb = diagnose({"v1": "4", "w1": "1.6", "v2": "123"})
    assert fb.first_wrong == "v2" and "v₂ = μ·v₁ + g₂이고 g₂ = 2·w₁" in fb.hint   # g_t = dL/dw(w_{t-1})


def test_invalid_text_is_reported_with_the_text():
    fb = diagnose({"w1": "1.6", "w2": "zero point nine"})
    assert fb.status["w2"] == "invalid" and fb.first_wrong == "w2"
    assert "zero point nine" in fb.hint


def test_later_errors_point_back_to_the_first():
    fb = diagnose({"w1": "2", "w2": "1.6", "w3": "0.9"})
    assert fb.first_wrong == "w1"
    assert fb.text().splitlines()[-1].startswith("뒤의 값은")


def test_empty_form_asks_for_values_and_unknown_fields_are_rejected():
    assert "값을 입력한 뒤" in diagnose({}).text()
    with pytest.raises(ValueError, match="w4"):
        diagnose({"w4": "1"})


def test_spec_values_are_the_trajectory_and_slips_differ_from_the_answer():
    spec = momentum_spec()
    values = {f["key"]: f["value"] for f in spec["fields"]}
    assert values == pytest.approx(RIGHT, abs=1e-12)
    assert [f["key"] for f in spec["fields"]] == list(RIGHT)
    for f in spec["fields"]:
        for c in f["candidates"]:
            assert abs(c["value"] - f["value"]) > spec["tol"]
    with pytest.raises(ValueError, match="tol"):
        momentum_spec(tol=0.1, round_tol=0.01)


# ---------------------------------------------------------------- the two views
def test_static_form_embeds_the_spec_and_the_script():
    page = momentum_checker_html(form_id="ex1-test")
    assert "id='ex1-test'" in page and "<script>" in page
    blob = re.search(r"<script type='application/json'>(.*?)</script>", page, re.S).group(1)
    assert json.loads(blob) == json.loads(json.dumps(momentum_spec(), ensure_ascii=False))
    for key in RIGHT:
        assert f"name='{key}'" in page
    with pytest.raises(ValueError, match="form_id"):
        momentum_checker_html(form_id="1 bad id")


def test_checker_output_has_widget_and_html_views():
    bundle = momentum_checker(live=True)._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and "dldna-checker" in bundle["text/html"]


def test_without_a_reader_frontend_only_the_static_view_is_stored():
    """Outside a reader's Jupyter/Colab (here: no kernel at all) no widget view is emitted,
    so the static site never renders a widget whose callbacks cannot run."""
    assert not interactive_frontend()
    bundle = momentum_checker()._repr_mimebundle_()
    assert WIDGET_VIEW not in bundle and "dldna-checker" in bundle["text/html"]


def test_live_widget_uses_the_same_diagnosis():
    import ipywidgets as w

    checker = momentum_checker(live=True)
    texts = [c for c in checker.widget.children for c in getattr(c, "children", [c]) if isinstance(c, w.Text)]
    assert len(texts) == 6
    for box, key in zip(texts, ["v1", "w1", "v2", "w2", "v3", "w3"]):
        box.value = str(RIGHT[key]) if key != "w2" else "1.2"   # w2 with "w before v"
    button = next(c for c in checker.widget.children if isinstance(c, w.Button))
    button.click()
    shown = checker.widget.children[-1].value
    assert "처음 틀린 값 w₂" in shown and hint_of("w_before_v") in shown


def test_interactive_figure_precomputes_every_frame():
    import matplotlib.pyplot as plt

    calls = []

    def draw(a, b):
        calls.append((a, b))
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot([0, 1], [0, a * b])
        return fig

    out = interactive_figure(draw, {"a": [1, 2], "b": [0.5, 1.0, 2.0]}, labels={"a": "진폭"}, live=True)
    frames = json.loads(re.search(r"class='frames'>(.*?)</script>", out.html, re.S).group(1))
    assert len(frames) == 6
    assert set(calls[:6]) == {(a, b) for a in (1, 2) for b in (0.5, 1.0, 2.0)}
    assert "진폭" in out.html and WIDGET_VIEW in out._repr_mimebundle_()
    with pytest.raises(ValueError, match="max_frames"):
        interactive_figure(draw, {"a": list(range(10)), "b": list(range(10))})
    with pytest.raises(ValueError, match="'b' has no values"):
        interactive_figure(draw, {"a": [1], "b": []})


def test_interactive_frontend_follows_the_kernels_stdin_flag(monkeypatch):
    """Jupyter/Colab send execute requests with allow_stdin=True; nbclient & co. with False."""
    import types

    import IPython

    for allow, expected in ((True, True), (False, False)):
        shell = types.SimpleNamespace(kernel=types.SimpleNamespace(_allow_stdin=allow))
        monkeypatch.setattr(IPython, "get_ipython", lambda shell=shell: shell)
        assert interactive_frontend() is expected
        assert (WIDGET_VIEW in momentum_checker()._repr_mimebundle_()) is expected
