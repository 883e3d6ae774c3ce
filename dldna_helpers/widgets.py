"""Interactive figures and forms that work with a kernel *and* on the static site.

A live ipywidgets form needs a kernel: on the built website its Python callbacks never
run. Every interactive object here therefore has two views:

- ``text/html``: a self-contained HTML/JavaScript version, built from values and hints
  precomputed in Python (no kernel needed). It is always in the output.
- ``application/vnd.jupyter.widget-view+json``: the ipywidgets form, added only when a
  reader runs the cell in Jupyter or Colab. Jupyter and Colab prefer it over the HTML.

Which case applies is decided by :func:`interactive_frontend`: executors that store
outputs for the static site (nbclient, nbconvert, Jupyter Book, papermill) run without
stdin, reader frontends with it. This matters because myst-nb renders the widget view
whenever a bundle has one (it ranks it above ``text/html``, and only globally configurable),
which would put a dead form on the site.

The exercise checkers that use these two views live in :mod:`dldna_helpers.checkers` (the
engine, for all nine exercises) and :mod:`dldna_helpers.answers` (how typed answers are read).
"""
from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
import uuid
from typing import Any, Callable, Mapping, Sequence

__all__ = [
    "momentum_checker", "interactive_figure", "LiveOrStatic", "interactive_frontend",
    "widget_view_bundle", "with_live_view",
]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


# ------------------------------------------------------------------ live + static in one output
def interactive_frontend() -> bool:
    """True when a reader runs the cell (Jupyter, Colab: the request allows ``input()``);
    False outside IPython and under executors that store outputs (nbclient & co. send
    ``allow_stdin=False``)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    kernel = getattr(get_ipython(), "kernel", None)
    return bool(getattr(kernel, "_allow_stdin", False))


class LiveOrStatic:
    """One output: ``html`` (a self-contained HTML/JavaScript view that works on the static
    site) and, when ``widget`` is given, the ipywidgets view that Jupyter/Colab prefer."""

    def __init__(self, widget: Any, html_text: str) -> None:
        self.widget = widget
        self.html = html_text

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data = widget_view_bundle(self.widget) if self.widget is not None else {}
        data["text/html"] = self.html
        data.setdefault("text/plain", "(대화형 출력: Jupyter나 Colab, 또는 웹사이트에서 보세요)")
        return data


def widget_view_bundle(widget: Any) -> dict[str, Any]:
    """The widget-view part of a mimebundle for ipywidgets 8 *and* 7 (Colab ships 7.7.1).

    ipywidgets 8 widgets have ``_repr_mimebundle_``; 7 only ``_ipython_display_``, so the
    view reference is built from the model id as 7 itself does. Anything unexpected gives
    an empty bundle: the caller then shows the static HTML form, never a bare object repr.
    """
    try:
        if hasattr(widget, "_repr_mimebundle_"):
            return dict(widget._repr_mimebundle_() or {})
        model_id = getattr(widget, "model_id", None)
        if model_id:
            return {WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": model_id}}
    except Exception:  # noqa: BLE001 - a broken widget frontend must not hide the checker
        pass
    return {}


def with_live_view(build: Callable[[], Any], html_text: str, live: bool | None = None) -> LiveOrStatic:
    """``html_text`` plus, when ``live`` (default: :func:`interactive_frontend`), the ipywidgets
    view that ``build()`` returns. If ipywidgets is missing or the form cannot be built (an
    old or broken widget frontend), the reader still gets the static form, with a warning."""
    if not (live if live is not None else interactive_frontend()):
        return LiveOrStatic(None, html_text)
    try:
        widget = build()
    except Exception as exc:  # noqa: BLE001 - any failure: the static form still works
        import warnings

        warnings.warn(f"ipywidgets 양식을 만들지 못해 정적 양식을 보여 줍니다 ({exc!r})", RuntimeWarning)
        return LiveOrStatic(None, html_text)
    return LiveOrStatic(widget, html_text)


def momentum_checker(*args: Any, **kwargs: Any) -> LiveOrStatic:
    """Exercise 1's checker; it lives in :mod:`dldna_helpers.momentum_exercise` (kept here by name
    for older notebooks)."""
    from .momentum_exercise import momentum_checker as build

    return build(*args, **kwargs)


# ------------------------------------------------------------------ figures with sliders
SLIDER_DPI = 120       # frames sharp on phones and 2x screens, like figures.FIGURE_DPI
MIN_SLIDER_DPI = 110   # a lower ``dpi`` (older pages asked for 56-64) is raised to this


def _figure_png(fig: Any, dpi: int) -> str:
    from .figures import figure_png

    return base64.b64encode(figure_png(fig, dpi)).decode("ascii")


def _frame_alt(alt: str | Callable[..., str] | None, caption: str | None,
               values: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """The alt text of one frame: ``alt(**values)``, or the caption with the slider values."""
    from .figures import _check_text

    if callable(alt):
        return _check_text(alt(**values), "alt(**values)")
    settings = ", ".join(f"{labels.get(n, n)} = {v}" for n, v in values.items())
    base = _check_text(alt, "alt") if alt is not None else (caption or "대화형 그림")
    return f"{base} ({settings}일 때)"


class CaptionedView(LiveOrStatic):
    """A :class:`LiveOrStatic` whose HTML carries the figure's caption and alt text in the output
    metadata (``{"text/html": {"caption", "alt"}}``), as :func:`figures.show` does for a PNG."""

    def __init__(self, view: LiveOrStatic, metadata: dict[str, Any]) -> None:
        super().__init__(view.widget, view.html)
        self.metadata = metadata

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        data = super()._repr_mimebundle_(**kwargs)
        return (data, self.metadata) if self.metadata else data


_SLIDER_JS = """(function () {
  var root = document.getElementById(%(id)s);
  var meta = JSON.parse(root.querySelector("script.meta").textContent);
  var frames = JSON.parse(root.querySelector("script.frames").textContent);
  var inputs = root.querySelectorAll("input[type=range]");
  var img = root.querySelector("img"), link = root.querySelector("a.dldna-enlarge");
  function linkFrame() {   // tap to enlarge: the frame file on the site (a data: URI cannot be opened)
    var src = img.getAttribute("src");
    if (!/^data:/.test(src)) link.setAttribute("href", src);
  }
  function show() {
    var index = 0;
    inputs.forEach(function (el, i) {
      var k = parseInt(el.value, 10), name = meta.names[i], value = meta.values[name][k];
      index = index * meta.sizes[i] + k;
      el.parentNode.querySelector("output").textContent = value;
      el.setAttribute("aria-valuetext", meta.labels[name] + " = " + value);
    });
    img.setAttribute("src", frames[index]);
    img.setAttribute("alt", meta.alts[index]);
    linkFrame();
  }
  var warm = false;
  function preload() {   // the site serves frames as files: fetch them once the reader reaches for a slider
    if (warm) return;
    warm = true;
    frames.forEach(function (src) { if (!/^data:/.test(src)) { new Image().src = src; } });
  }
  inputs.forEach(function (el) {
    el.addEventListener("input", show);
    el.addEventListener("focus", preload);
    el.addEventListener("pointerdown", preload);
  });
  linkFrame();
})();"""


def _slider_html(fig_id: str, params: Mapping[str, Sequence[Any]], labels: Mapping[str, str],
                 frames: list[str], alts: list[str]) -> str:
    """The kernel-free slider figure: range inputs named by their visible label (``<label for>``),
    with ``aria-valuetext`` "학습률 η = 0.1", switching between the precomputed frames."""
    names = list(params)
    esc = html.escape
    controls = []
    for i, n in enumerate(names):
        label, first, input_id = labels.get(n, n), str(params[n][0]), f"{fig_id}-{i}"
        controls.append(
            f"<div class='dldna-slider'><label for='{input_id}'>{esc(label)}</label> = "
            f"<output for='{input_id}'>{esc(first)}</output><br>"
            f"<input type='range' id='{input_id}' name='{esc(n)}' min='0' max='{len(params[n]) - 1}' step='1' "
            f"value='0' aria-valuetext='{esc(label)} = {esc(first)}'></div>")
    meta = {"names": names, "values": {n: [str(v) for v in params[n]] for n in names},
            "sizes": [len(params[n]) for n in names], "labels": {n: labels.get(n, n) for n in names},
            "alts": alts}
    as_json = lambda value: json.dumps(value, ensure_ascii=False).replace("</", "<\\/")  # noqa: E731
    return (
        f"<div id='{fig_id}' class='dldna-figure-slider'>{''.join(controls)}"
        f"<a class='dldna-enlarge'><img class='dldna-frame' alt='{esc(alts[0])}' src='{frames[0]}'></a>"
        f"<script type='application/json' class='meta'>{as_json(meta)}</script>"
        f"<script type='application/json' class='frames'>{json.dumps(frames)}</script>"
        f"<script>{_SLIDER_JS % {'id': json.dumps(fig_id)}}</script></div>"
    )


def interactive_figure(draw: Callable[..., Any], params: Mapping[str, Sequence[Any]], *,
                       labels: Mapping[str, str] | None = None, caption: str | None = None,
                       alt: str | Callable[..., str] | None = None, dpi: int = SLIDER_DPI,
                       max_frames: int = 40, live: bool | None = None) -> LiveOrStatic:
    """Sliders over ``params`` (name → list of values) redrawing ``draw(**values) -> Figure``.

    Always: every combination is drawn once in advance (at ``dpi``, at least
    :data:`MIN_SLIDER_DPI`) and embedded as PNG frames that HTML range inputs switch between, so
    the sliders work on the static site (the "saved states" of the figure); the site serves the
    frames as files. ``caption`` is the figure's Korean caption (the book numbers it like the
    figures of :func:`figures.show`); ``alt`` is each frame's alt text: a function of the slider
    values (``alt(**values)``, numbers from the data), or a sentence the values are appended to;
    by default the caption with the values. When ``live`` (default: :func:`interactive_frontend`):
    also ipywidgets selection sliders that redraw with the kernel.
    """
    import matplotlib.pyplot as plt

    from .figures import _check_text

    if not params:
        raise ValueError("params is empty: give at least one parameter with a list of values")
    for name, values in params.items():
        if len(values) < 1:
            raise ValueError(f"parameter {name!r} has no values")
    n_frames = math.prod(len(v) for v in params.values())
    if n_frames > max_frames:
        raise ValueError(f"{n_frames} combinations of {list(params)} exceed max_frames={max_frames}; use fewer values")
    if caption is not None:
        caption = _check_text(caption, "caption")
    labels = dict(labels or {})
    names = list(params)
    dpi = max(int(dpi), MIN_SLIDER_DPI)

    frames, alts = [], []
    for combo in itertools.product(*(range(len(params[n])) for n in names)):
        values = {n: params[n][i] for n, i in zip(names, combo)}
        alts.append(_frame_alt(alt, caption, values, labels))
        fig = draw(**values)
        frames.append("data:image/png;base64," + _figure_png(fig, dpi))
        plt.close(fig)

    static_html = _slider_html(f"dldna-fig-{uuid.uuid4().hex[:8]}", params, labels, frames, alts)
    view = with_live_view(lambda: _slider_form(draw, params, labels), static_html, live)
    metadata = {"text/html": {"caption": caption, "alt": alts[0]}} if caption else {}
    return CaptionedView(view, metadata)


def _slider_form(draw: Callable[..., Any], params: Mapping[str, Sequence[Any]], labels: Mapping[str, str]) -> Any:
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    names = list(params)
    controls = {n: w.SelectionSlider(options=[(str(v), v) for v in params[n]], description=labels.get(n, n),
                                     continuous_update=False, style={"description_width": "initial"},
                                     layout=w.Layout(width="28em"))
                for n in names}
    out = w.Output()

    def redraw(_: Any = None) -> None:
        out.clear_output(wait=True)
        with out:
            fig = draw(**{n: c.value for n, c in controls.items()})
            display(fig)
            plt.close(fig)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return w.VBox([*controls.values(), out])
