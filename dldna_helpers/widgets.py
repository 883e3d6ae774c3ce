"""Exercise checkers and interactive figures that work with a kernel *and* on the static site.

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

The diagnosis of exercise 1 is plain Python (:func:`diagnose`), and the JavaScript runs
the same algorithm on the same precomputed table (:func:`momentum_spec`), so both give
identical feedback; ``tests/test_exercise_browser.py`` checks that in Chromium.
"""
from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

__all__ = [
    "MomentumExercise", "Feedback", "momentum_spec", "parse_number", "diagnose",
    "momentum_checker", "momentum_checker_html", "interactive_figure", "LiveOrStatic", "interactive_frontend",
    "widget_view_bundle", "with_live_view", "read_number", "clean_text", "parse_js", "PARSE_MESSAGES",
]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# One regular expression for Python and JavaScript: both parse exactly the same strings.
NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


# ------------------------------------------------------------------ exercise 1: the problem
@dataclass(frozen=True)
class MomentumExercise:
    """Momentum SGD by hand on L(w) = w²: v_t = μ v_{t-1} + g_t, w_t = w_{t-1} − η v_t, v_0 = 0."""

    w0: float = 2.0
    lr: float = 0.1
    momentum: float = 0.9
    steps: int = 3

    def __post_init__(self) -> None:
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if not (isinstance(self.momentum, (int, float)) and 0 <= self.momentum < 1):
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if not (isinstance(self.steps, int) and 1 <= self.steps <= 10):
            raise ValueError(f"steps must be an int from 1 to 10, got {self.steps!r}")
        if not (isinstance(self.w0, (int, float)) and math.isfinite(self.w0)):
            raise ValueError(f"w0 must be a finite number, got {self.w0!r}")

    @staticmethod
    def grad(w: float) -> float:
        """dL/dw for L(w) = w²."""
        return 2.0 * w

    def trajectory(self) -> tuple[list[float], list[float]]:
        """``(ws, vs)`` with ``ws[0] = w0`` and ``vs[0] = 0``; index t is step t."""
        ws, vs = [float(self.w0)], [0.0]
        for _ in range(self.steps):
            g = self.grad(ws[-1])
            vs.append(self.momentum * vs[-1] + g)
            ws.append(ws[-1] - self.lr * vs[-1])
        return ws, vs

    def field_keys(self) -> list[str]:
        """The answer fields in the order they are computed: v1, w1, v2, w2, ..."""
        return [k for t in range(1, self.steps + 1) for k in (f"v{t}", f"w{t}")]


# Common slips, each as "what the reader computed instead" from the correct previous state.
# (name, field kind, formula(w_prev, v_prev, v_now, lr, mu, grad), hint)
_SLIPS: list[tuple[str, str, Callable[..., float], str]] = [
    ("dampening", "v", lambda w, v, vn, lr, mu, g: mu * v + (1 - mu) * g,
     "그래디언트에 감쇠(dampening) 계수 (1−μ)를 곱했습니다. 이 문제의 규칙은 v = μv + g입니다."),
    ("lr_in_velocity", "v", lambda w, v, vn, lr, mu, g: mu * v + lr * g,
     "학습률 η를 속도에 넣었습니다. 여기서 속도는 v = μv + g이고, η는 w를 갱신할 때 곱합니다."),
    ("negative_velocity", "v", lambda w, v, vn, lr, mu, g: mu * v - lr * g,
     "v = μv − ηg 규약(속도에 −η를 포함)으로 계산했습니다. 이 문제의 규칙은 v = μv + g입니다."),
    ("no_momentum_v", "v", lambda w, v, vn, lr, mu, g: g,
     "μv 항이 빠졌습니다. 속도는 이전 속도의 μ배에 현재 그래디언트를 더한 값입니다."),
    ("derivative", "v", lambda w, v, vn, lr, mu, g: mu * v + g / 2,
     "도함수를 확인하세요: L(w) = w²이면 dL/dw = 2w입니다."),
    ("sign_v", "v", lambda w, v, vn, lr, mu, g: -vn,
     "부호가 반대입니다. 속도는 그래디언트와 같은 방향으로 쌓입니다: v = μv + g."),
    ("sign_w", "w", lambda w, v, vn, lr, mu, g: w + lr * vn,
     "부호를 확인하세요: 손실을 줄이려면 속도의 반대 방향으로 움직입니다 (w − ηv)."),
    ("w_before_v", "w", lambda w, v, vn, lr, mu, g: w - lr * v,
     "w를 v보다 먼저 갱신했습니다 (이전 스텝의 속도를 썼습니다). 먼저 v를 구하고 그 v로 w를 갱신하세요."),
    ("no_momentum_w", "w", lambda w, v, vn, lr, mu, g: w - lr * g,
     "속도 대신 그래디언트로 갱신했습니다 (모멘텀 없는 경사 하강법). w = w − ηv입니다."),
    ("nesterov", "w", lambda w, v, vn, lr, mu, g: w - lr * (g + mu * vn),
     "네스테로프(Nesterov) 형식 w − η(g + μv)로 갱신했습니다. 이 문제는 일반 모멘텀 w − ηv입니다."),
    ("no_lr", "w", lambda w, v, vn, lr, mu, g: w - vn,
     "학습률 η를 곱하지 않았습니다: w = w − ηv입니다."),
]

MESSAGES = {
    "correct": "맞음",
    "wrong": "틀림",
    "missing": "비어 있음",
    "invalid": "숫자가 아님",
    "rounding": "거의 맞았습니다. 반올림하지 말고 소수 셋째 자리까지 적어 보세요.",
    "generic_v": "v{t} = μ·v{p} + g{t}이고 g{t} = 2·w{p}입니다. 앞 스텝의 값을 대입해 다시 계산해 보세요.",
    "generic_w": "w{t} = w{p} − η·v{t}입니다. 방금 구한 v{t}를 쓰세요.",  # {t}, {p}: subscript digits
    "all_correct": "모두 맞았습니다! {n}개 값이 전부 정답과 일치합니다.",
    "none_entered": "값을 입력한 뒤 '확인'을 누르세요.",
    "summary": "{n_total}개 중 {n_correct}개 맞음.",
    "first_wrong": "처음 틀린 값 {label}: {hint}",
    "later": "뒤의 값은 앞의 오류가 이어진 결과일 수 있으니 {label}부터 고치세요.",
}


def _sub(n: int) -> str:
    """Subscript digits: "w₁" reads better than "w1"."""
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(n))


def momentum_spec(ex: MomentumExercise = MomentumExercise(), tol: float = 5e-4,
                  round_tol: float = 1e-2) -> dict[str, Any]:
    """Everything the checker needs, as JSON-ready data: per field the right value, the values
    each common slip produces *from the correct previous state* with its hint, and the texts.

    Because only the first wrong field gets a hint, all fields before it are right, so its
    slips can be precomputed from the correct trajectory; the JavaScript form uses this table.
    """
    if not (tol > 0 and round_tol > tol):
        raise ValueError(f"need 0 < tol < round_tol, got tol={tol!r}, round_tol={round_tol!r}")
    ws, vs = ex.trajectory()
    fields: list[dict[str, Any]] = []
    for t in range(1, ex.steps + 1):
        w_prev, v_prev, v_now = ws[t - 1], vs[t - 1], vs[t]
        g = ex.grad(w_prev)
        for kind, value in (("v", vs[t]), ("w", ws[t])):
            candidates: list[dict[str, Any]] = []
            for _, slip_kind, formula, hint in _SLIPS:
                if slip_kind != kind:
                    continue
                slip = formula(w_prev, v_prev, v_now, ex.lr, ex.momentum, g)
                if abs(slip - value) <= tol:
                    continue  # indistinguishable from the right answer here: not a diagnosable slip
                same = [c for c in candidates if abs(c["value"] - slip) <= tol]
                if same:  # two slips give the same number (e.g. η = 1 − μ): say both
                    same[0]["hint"] += " 또는 " + hint
                else:
                    candidates.append({"value": round(slip, 12), "hint": hint})
            generic = MESSAGES[f"generic_{kind}"].format(t=_sub(t), p=_sub(t - 1))
            label = kind + _sub(t)
            fields.append({"key": f"{kind}{t}", "label": label, "value": round(value, 12),
                           "candidates": candidates, "generic": generic})
    return {"fields": fields, "tol": tol, "round_tol": round_tol, "parse_messages": PARSE_MESSAGES,
            "messages": MESSAGES, "problem": {"w0": ex.w0, "lr": ex.lr, "momentum": ex.momentum, "steps": ex.steps}}


# Edges that both languages strip the same way (Python's str.strip and JavaScript's trim
# disagree on control characters): C0/C1 controls, spaces, zero-width characters, the BOM.
_EDGE = r"[\u0000-\u0020\u007f-\u00a0\u00ad\u200b-\u200f\u2028-\u202f\u205f-\u2064\ufeff]"
EDGE_PATTERN = f"^{_EDGE}+|{_EDGE}+$"
# Super- and subscript digits and signs are kept as they are: NFKC would turn "3²" into "32".
SCRIPT_PATTERN = r"([\u00b2\u00b3\u00b9\u2070-\u209f])"
# A comma followed by exactly three digits after 1-999 may be a thousands separator ('1,600').
AMBIGUOUS_COMMA = r"^[+-]?[1-9]\d{0,2},\d{3}$"
PARSE_MESSAGES = {
    "invalid": "'{raw}'은(는) 숫자로 읽을 수 없습니다. 예: 1.6, -0.25, 1,6, 1e-3",
    "ambiguous": "'{raw}'의 쉼표가 소수점인지 천 단위 구분인지 모호합니다. 소수점은 점으로(1.6), 천 단위는 쉼표 없이(1600) 쓰세요.",
    "comma": "'{raw}'에는 쉼표가 여러 개이거나 점과 함께 있습니다. 천 단위 쉼표 없이, 소수점은 점 하나로 쓰세요.",
}


def clean_text(raw: Any) -> str:
    """The typed text as both checkers read it: NFKC (full-width １.６ becomes 1.6), the Unicode
    minus as '-', and control characters, spaces and a BOM at either end removed."""
    parts = re.split(SCRIPT_PATTERN, str(raw))   # odd items: the kept characters
    text = "".join(p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts))
    return re.sub(EDGE_PATTERN, "", text.replace("\u2212", "-"))


def read_number(raw: Any) -> tuple[float | None, str | None]:
    """``(value, None)``, ``(None, None)`` for empty input, or ``(None, code)`` with a code of
    :data:`PARSE_MESSAGES`. The JavaScript ``dldnaRead`` (:data:`PARSE_JS`) is the same algorithm."""
    if raw is None:
        return None, None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return (float(raw), None) if math.isfinite(raw) else (None, "invalid")
    text = clean_text(raw)
    if text == "":
        return None, None
    if "," in text:
        if "." in text or text.count(",") > 1:
            return None, "comma"
        if re.fullmatch(AMBIGUOUS_COMMA, text, flags=re.ASCII):
            return None, "ambiguous"
        text = text.replace(",", ".")
    if not re.fullmatch(NUMBER_PATTERN, text, flags=re.ASCII):  # ASCII digits only, as in JavaScript
        return None, "invalid"
    value = float(text)
    return (value, None) if math.isfinite(value) else (None, "invalid")


def parse_number(raw: Any) -> float | None:
    """A typed answer as a float; None when empty. Raises ValueError for text that is not a number.

    Accepts full-width digits, a decimal comma where it is unambiguous (1,6 but not 1,600)
    and the Unicode minus sign (−0.2), like the JavaScript form.
    """
    value, code = read_number(raw)
    if code is not None:
        raise ValueError(f"{raw!r} is not a number (allowed: e.g. 1.6, -0.25, 1,6, 1e-3): "
                         + PARSE_MESSAGES[code].format(raw=clean_text(raw)))
    return value


# The same reading in JavaScript; both forms embed it. Returns {value, code} like read_number.
PARSE_JS = r"""
function dldnaClean(raw) {
  var text = String(raw).split(new RegExp(DLDNA_SCRIPT)).map(function (p, i) {
    return i % 2 ? p : p.normalize("NFKC");
  }).join("");
  return text.replace(/\u2212/g, "-").replace(new RegExp(DLDNA_EDGE, "g"), "");
}
function dldnaRead(raw) {
  var text = dldnaClean(raw);
  if (text === "") return {value: null, code: null};
  if (text.indexOf(",") >= 0) {
    if (text.indexOf(".") >= 0 || text.split(",").length > 2) return {value: null, code: "comma"};
    if (new RegExp(DLDNA_AMBIGUOUS).test(text)) return {value: null, code: "ambiguous"};
    text = text.replace(",", ".");
  }
  if (!new RegExp(DLDNA_NUMBER).test(text)) return {value: null, code: "invalid"};
  var value = parseFloat(text);
  return isFinite(value) ? {value: value, code: null} : {value: null, code: "invalid"};
}
"""


def parse_js() -> str:
    """:data:`PARSE_JS` with the shared patterns filled in (as JavaScript string literals)."""
    return (f"var DLDNA_EDGE = {json.dumps(EDGE_PATTERN)}, DLDNA_SCRIPT = {json.dumps(SCRIPT_PATTERN)}, "
            f"DLDNA_AMBIGUOUS = {json.dumps(AMBIGUOUS_COMMA)}, "
            f"DLDNA_NUMBER = {json.dumps(NUMBER_PATTERN)};" + PARSE_JS)


@dataclass
class Feedback:
    """The checker's verdict: a status per field, and one hint for the first wrong field."""

    status: dict[str, str]
    labels: dict[str, str]
    first_wrong: str | None = None
    hint: str | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def all_correct(self) -> bool:
        return all(s == "correct" for s in self.status.values())

    def text(self) -> str:
        """The feedback as plain text; the JavaScript form shows exactly these lines."""
        return "\n".join(self.lines)


def diagnose(answers: Mapping[str, Any], spec: Mapping[str, Any] | None = None) -> Feedback:
    """Check the reader's ``answers`` (``{"w1": "1.6", ...}``; missing keys mean empty).

    Every field is marked correct / wrong / missing / invalid; the first wrong (or invalid)
    field, in computation order, gets a hint: a known slip whose value matches, else a
    rounding hint when close, else the formula for that step.
    """
    spec = spec or momentum_spec()
    unknown = set(answers) - {f["key"] for f in spec["fields"]}
    if unknown:
        allowed = ", ".join(f["key"] for f in spec["fields"])
        raise ValueError(f"unknown answer field(s) {sorted(unknown)}; allowed: {allowed}")
    msg = spec["messages"]
    status: dict[str, str] = {}
    labels = {f["key"]: f["label"] for f in spec["fields"]}
    first: str | None = None
    hint: str | None = None
    for f in spec["fields"]:
        raw = answers.get(f["key"])
        x, code = read_number(raw)
        if code is not None:
            status[f["key"]] = "invalid"
            if first is None:
                first, hint = f["key"], spec["parse_messages"][code].format(raw=clean_text(raw))
            continue
        if x is None:
            status[f["key"]] = "missing"
            continue
        if abs(x - f["value"]) <= spec["tol"]:
            status[f["key"]] = "correct"
            continue
        status[f["key"]] = "wrong"
        if first is None:
            first = f["key"]
            matches = [c["hint"] for c in f["candidates"] if abs(x - c["value"]) <= spec["tol"]]
            if matches:
                hint = matches[0]
            elif abs(x - f["value"]) <= spec["round_tol"] * max(1.0, abs(f["value"])):
                hint = msg["rounding"]
            else:
                hint = f["generic"]
    lines = [f"{labels[k]}: {msg[s]}" for k, s in status.items()]
    lines.append(summary_line(status, msg))
    if any(s != "correct" for s in status.values()) and any(s != "missing" for s in status.values()):
        if first is not None:
            lines.append(msg["first_wrong"].format(label=labels[first], hint=hint))
            keys = list(status)
            if any(status[k] in ("wrong", "invalid") for k in keys[keys.index(first) + 1:]):
                lines.append(msg["later"].format(label=labels[first]))
    return Feedback(status, labels, first, hint, lines)


def summary_line(status: Mapping[str, str], msg: Mapping[str, str]) -> str:
    """The line after the per-field verdicts: all correct, nothing entered, or n of m correct
    (the same rule in every checker and in their JavaScript)."""
    n_total, n_correct = len(status), sum(s == "correct" for s in status.values())
    if n_correct == n_total:
        return msg["all_correct"].format(n=n_total)
    if all(s == "missing" for s in status.values()):
        return msg["none_entered"]
    return msg["summary"].format(n_total=n_total, n_correct=n_correct)


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


def _status_html(status: str, text: str) -> str:
    colour = {"correct": "#1a7f37", "wrong": "#cf222e", "invalid": "#9a6700"}.get(status, "#57606a")
    return f'<span style="color:{colour}">{html.escape(text)}</span>'


def feedback_html(fb: Feedback) -> str:
    """The feedback as HTML for the live widget (same lines as :meth:`Feedback.text`)."""
    n = len(fb.status)
    marks = [_status_html(s, line) for s, line in zip(fb.status.values(), fb.lines[:n])]
    rest = [html.escape(line) for line in fb.lines[n:]]
    return "<div class='dldna-feedback'>" + "<br>".join(marks + [f"<b>{r}</b>" for r in rest[:1]] + rest[1:]) + "</div>"


_FORM_JS = r"""
(function () {
  var root = document.getElementById("%(id)s");
  var spec = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var msg = spec.messages;
  function fmt(t, d) { return t.replace(/\{(\w+)\}/g, function (m, k) { return d[k]; }); }
  %(parse)s
  function check() {
    var status = [], first = null, hint = null, lines = [];
    spec.fields.forEach(function (f) {
      var raw = root.querySelector("input[name='" + f.key + "']").value;
      var read = dldnaRead(raw), x = read.value;
      if (read.code) {
        status.push("invalid");
        if (first === null) { first = f; hint = fmt(spec.parse_messages[read.code], {raw: dldnaClean(raw)}); }
        return;
      }
      if (x === null) { status.push("missing"); return; }
      if (Math.abs(x - f.value) <= spec.tol) { status.push("correct"); return; }
      status.push("wrong");
      if (first === null) {
        first = f;
        var m = f.candidates.filter(function (c) { return Math.abs(x - c.value) <= spec.tol; });
        if (m.length) hint = m[0].hint;
        else if (Math.abs(x - f.value) <= spec.round_tol * Math.max(1, Math.abs(f.value))) hint = msg.rounding;
        else hint = f.generic;
      }
    });
    var n = spec.fields.length, nc = status.filter(function (s) { return s === "correct"; }).length;
    var out = root.querySelector(".dldna-feedback");
    out.textContent = "";
    spec.fields.forEach(function (f, i) {
      var span = document.createElement("span");
      span.className = "dldna-status dldna-" + status[i];
      span.textContent = f.label + ": " + msg[status[i]];
      out.appendChild(span); out.appendChild(document.createElement("br"));
      var input = root.querySelector("input[name='" + f.key + "']");
      input.setAttribute("aria-invalid", status[i] === "wrong" || status[i] === "invalid" ? "true" : "false");
    });
    if (nc === n) lines.push(fmt(msg.all_correct, {n: n}));
    else if (status.every(function (s) { return s === "missing"; })) lines.push(msg.none_entered);
    else {
      lines.push(fmt(msg.summary, {n_total: n, n_correct: nc}));
      if (first !== null) {
        lines.push(fmt(msg.first_wrong, {label: first.label, hint: hint}));
        var k = spec.fields.indexOf(first);
        if (status.slice(k + 1).some(function (s) { return s === "wrong" || s === "invalid"; }))
          lines.push(fmt(msg.later, {label: first.label}));
      }
    }
    lines.forEach(function (line, i) {
      var el = document.createElement(i === 0 ? "b" : "span");
      el.className = "dldna-line";
      el.textContent = line;
      out.appendChild(el); out.appendChild(document.createElement("br"));
    });
  }
  // A submit button, so that Enter in any field checks too (implicit submission needs one).
  root.querySelector("form").addEventListener("submit", function (e) { e.preventDefault(); check(); });
})();
"""

_FORM_CSS = """
#%(id)s { border: 1px solid #d0d7de; border-radius: 6px; padding: .8em 1em; margin: .5em 0; max-width: 34em; }
#%(id)s table { border-collapse: collapse; margin-bottom: .5em; }
#%(id)s td, #%(id)s th { padding: .2em .5em; text-align: left; }
#%(id)s input { width: 7em; font-family: monospace; }
#%(id)s .dldna-correct { color: #1a7f37; } #%(id)s .dldna-wrong { color: #cf222e; }
#%(id)s .dldna-invalid { color: #9a6700; } #%(id)s .dldna-missing { color: #57606a; }
"""


def momentum_checker_html(ex: MomentumExercise = MomentumExercise(), form_id: str | None = None) -> str:
    """The kernel-free checker: a small HTML form whose JavaScript runs :func:`diagnose`'s
    algorithm on the precomputed :func:`momentum_spec` table."""
    spec = momentum_spec(ex)
    form_id = form_id or f"dldna-momentum-{uuid.uuid4().hex[:8]}"
    if not re.match(r"^[A-Za-z][\w-]*$", form_id):
        raise ValueError(f"form_id must be a valid HTML id (letters, digits, - and _), got {form_id!r}")
    labels = {f["key"]: f["label"] for f in spec["fields"]}
    rows = "".join(
        f"<tr><td>{t}</td>"
        f"<td><input name='v{t}' aria-label='{labels[f'v{t}']}' inputmode='decimal' autocomplete='off'></td>"
        f"<td><input name='w{t}' aria-label='{labels[f'w{t}']}' inputmode='decimal' autocomplete='off'></td></tr>"
        for t in range(1, ex.steps + 1)
    )
    spec_json = json.dumps(spec, ensure_ascii=False).replace("</", "<\\/")
    return (
        f"<div id='{form_id}' class='dldna-checker'>"
        f"<style>{_FORM_CSS % {'id': form_id}}</style>"
        f"<script type='application/json'>{spec_json}</script>"
        f"<form><p style='margin:0 0 .4em'>L(w) = w², η = {ex.lr}, μ = {ex.momentum}, w₀ = {ex.w0}, v₀ = 0</p>"
        f"<table><tr><th>스텝 t</th><th>속도 v_t</th><th>가중치 w_t</th></tr>{rows}</table>"
        f"<button type='submit' class='dldna-check'>확인</button></form>"
        f"<div class='dldna-feedback' aria-live='polite'></div>"
        f"<script>{_FORM_JS % {'id': form_id, 'parse': parse_js()}}</script></div>"
    )


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


def momentum_checker(ex: MomentumExercise = MomentumExercise(), live: bool | None = None) -> LiveOrStatic:
    """Exercise 1's checker: the HTML/JS form, plus an ipywidgets form when ``live``
    (default: :func:`interactive_frontend`)."""
    return with_live_view(lambda: _momentum_form(ex), momentum_checker_html(ex), live)


def _momentum_form(ex: MomentumExercise) -> Any:
    import ipywidgets as w

    spec = momentum_spec(ex)
    inputs = {f["key"]: w.Text(placeholder=f["label"], layout=w.Layout(width="8em")) for f in spec["fields"]}
    rows = [w.HBox([w.Label(f"t = {t}", layout=w.Layout(width="4em")),
                    w.Label("v"), inputs[f"v{t}"], w.Label("w"), inputs[f"w{t}"]])
            for t in range(1, ex.steps + 1)]
    button = w.Button(description="확인", button_style="primary")
    out = w.HTML()

    def on_click(_: Any) -> None:
        out.value = feedback_html(diagnose({k: box.value for k, box in inputs.items()}, spec))

    button.on_click(on_click)
    header = w.HTML(f"L(w) = w², η = {ex.lr}, μ = {ex.momentum}, w₀ = {ex.w0}, v₀ = 0")
    return w.VBox([header, *rows, button, out])


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
