"""The two views (ipywidgets and static HTML) of one output, and figures with sliders
(dldna_helpers.widgets). Exercise 1's checker serves as the example of a form."""
from __future__ import annotations

import html
import json
import re

import pytest

from dldna_helpers.checkers import check, checker_spec
from dldna_helpers.momentum_exercise import momentum_fields
from dldna_helpers.widgets import WIDGET_VIEW, interactive_figure, interactive_frontend, momentum_checker

RIGHT = {"v1": "4", "w1": "1.6", "v2": "6.4", "w2": "0.96", "v3": "7.04", "w3": "0.256"}


# ---------------------------------------------------------------- the two views


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
    answers = dict(RIGHT, w2="1.2")   # w2 with "w before v"
    for box, key in zip(texts, RIGHT):
        box.value = answers[key]
    button = next(c for c in checker.widget.children if isinstance(c, w.Button))
    button.click()
    shown = html.unescape(checker.widget.children[-1].value)
    expected = check(answers, checker_spec(momentum_fields(), "문제 1 확인"))
    assert all(line in shown for line in expected.lines) and "w를 v보다 먼저 갱신했습니다" in shown


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
