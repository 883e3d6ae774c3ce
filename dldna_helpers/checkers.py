"""Answer checkers for the exercises, declared as fields and shown in two views.

An exercise lists its answer fields (:func:`number`, :func:`integer`, :func:`values`,
:func:`choice`) with the right values *computed by its solution code* and, optionally, the
values typical slips produce together with a hint for each. :func:`checker` turns them into
one output, like exercise 1's momentum checker in :mod:`dldna_helpers.widgets`:

- a self-contained HTML/JavaScript form (the static site, no kernel), whose script runs the
  algorithm of :func:`check` on the precomputed spec and writes feedback with ``textContent``;
- an ipywidgets form when a reader runs the cell (Jupyter, Colab), which calls :func:`check`.

Typed text is read by :func:`dldna_helpers.widgets.read_number` and its JavaScript twin, so
both views accept and reject exactly the same strings and give the same lines.
"""
from __future__ import annotations

import html
import json
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from .report import significant as sci  # numbers in feedback: significant digits, ×10ⁿ, no e-notation
from .widgets import (_FORM_CSS, LiveOrStatic, PARSE_MESSAGES, clean_text, parse_js, read_number,
                      summary_line, with_live_view)

__all__ = ["number", "integer", "values", "choice", "checker_spec", "check", "CheckResult", "checker_html",
           "checker", "sci", "LIST_SPLIT"]

# Items of a short list: ';', ', ' (comma and space) or spaces. A bare comma stays a decimal comma.
LIST_SPLIT = r"[ \t]*;[ \t]*|[ \t]*,[ \t]+|[ \t]+"
_KEY = r"^[A-Za-z][\w-]*$"
MESSAGES = {
    "correct": "맞음", "wrong": "틀림", "missing": "비어 있음", "invalid": "읽을 수 없음",
    "not_integer": "'{raw}'은(는) 정수가 아닙니다. 스텝 수처럼 세는 값은 정수로 적으세요.",
    "count": "값 {n}개를 세미콜론(;)이나 쉼표와 공백(, )으로 구분해 적으세요. 지금은 {m}개입니다.",
    "rounding": "거의 맞았습니다. 반올림을 줄이고 유효숫자를 더 적어 보세요.",
    "generic": "다시 계산해 보세요.",
    "later": "{label}의 오류가 이어진 결과일 수 있으니 {label}부터 고치세요.",
    "all_correct": "모두 맞았습니다! {n}개 답이 전부 정답과 일치합니다.",
    "none_entered": "답을 입력하거나 고른 뒤 '확인'을 누르세요.",
    "summary": "{n_total}개 중 {n_correct}개 맞음.",
}


# ------------------------------------------------------------------ declaring fields
def _slips(slips: Iterable[tuple[Any, str]]) -> list[dict[str, Any]]:
    """``(value, hint)`` pairs as dicts; numpy scalars become plain floats (JSON)."""
    return [{"value": [float(v) for v in value] if isinstance(value, (list, tuple)) else float(value),
             "hint": str(hint)} for value, hint in slips]


def _finite(value: Any, key: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(value, bool) or not math.isfinite(x):
        raise ValueError(f"field {key!r}: the right value must be a finite number, got {value!r}")
    return x


def number(key: str, label: str, value: float, *, tol: float | None = None, rel: float = 0.0,
           units: Sequence[str] = (), slips: Iterable[tuple[float, str]] = (), hint: str | None = None,
           chain: str | None = None, prompt: str | None = None) -> dict[str, Any]:
    """A number answer, right when ``|x − value| ≤ max(tol, rel·|value|)`` (default ``tol``:
    5×10⁻⁴, or 0 when ``rel`` is given, so small values are judged relatively). ``units`` are
    suffixes a reader may type after it ('%'); ``slips`` are ``(value, hint)`` pairs; fields
    of one ``chain`` build on each other, so only the first wrong one gets its own hint."""
    tol = (0.0 if rel > 0 else 5e-4) if tol is None else tol
    if not (tol >= 0 and rel >= 0 and (tol > 0 or rel > 0)):
        raise ValueError(f"field {key!r}: need tol ≥ 0, rel ≥ 0 and one of them > 0, got {tol!r}, {rel!r}")
    return {"kind": "number", "key": key, "label": label, "prompt": prompt or label,
            "value": round(_finite(value, key), 12), "tol": tol, "rel": rel,
            "units": [clean_text(u) for u in units], "slips": _slips(slips),
            "hint": hint or MESSAGES["generic"], "chain": chain}


def integer(key: str, label: str, value: int, *, units: Sequence[str] = (),
            slips: Iterable[tuple[int, str]] = (), hint: str | None = None, chain: str | None = None,
            prompt: str | None = None) -> dict[str, Any]:
    """A whole-number answer (a step count): right only when equal."""
    if isinstance(value, bool) or int(value) != value:  # also numpy integers
        raise ValueError(f"field {key!r}: an integer field needs an integer value, got {value!r}")
    field = number(key, label, int(value), tol=0.5, units=units, slips=slips, hint=hint, chain=chain, prompt=prompt)
    field["kind"] = "integer"
    return field


def values(key: str, label: str, right: Sequence[float], *, tol: float | None = None, rel: float = 0.0,
           ordered: bool = False, slips: Iterable[tuple[Sequence[float], str]] = (), hint: str | None = None,
           prompt: str | None = None) -> dict[str, Any]:
    """A short list of numbers (e.g. eigenvalues); in any order unless ``ordered``."""
    if not 1 <= len(right) <= 8:
        raise ValueError(f"field {key!r}: a list field holds 1 to 8 values, got {len(right)}")
    field = number(key, label, 0.0, tol=tol, rel=rel, hint=hint, prompt=prompt)
    field.update(kind="values", ordered=ordered, value=[round(_finite(v, key), 12) for v in right],
                 slips=_slips((list(v), h) for v, h in slips))
    return field


def choice(key: str, label: str, options: Sequence[tuple[str, bool, str]], *,
           prompt: str | None = None) -> dict[str, Any]:
    """One of several ``(text, is_right, feedback)`` options; the feedback says why."""
    if sum(bool(right) for _, right, _ in options) != 1 or len(options) < 2:
        raise ValueError(f"field {key!r}: need at least two options and exactly one right one")
    return {"kind": "choice", "key": key, "label": label, "prompt": prompt or label, "chain": None,
            "options": [{"key": "abcdefgh"[i], "text": text, "correct": bool(right), "feedback": feedback}
                        for i, (text, right, feedback) in enumerate(options)]}


def _close(x: float, target: float, f: Mapping[str, Any]) -> bool:
    return abs(x - target) <= max(f["tol"], f["rel"] * abs(target))


def _same_list(xs: Sequence[float], target: Sequence[float], f: Mapping[str, Any]) -> bool:
    if len(xs) != len(target):
        return False
    a, b = (list(xs), list(target)) if f["ordered"] else (sorted(xs), sorted(target))
    return all(_close(x, t, f) for x, t in zip(a, b))


def checker_spec(fields: Sequence[Mapping[str, Any]], title: str = "") -> dict[str, Any]:
    """The JSON-ready spec of a checker. Slips that give the right value are dropped (not
    diagnosable there); slips that give the same value are merged, naming both."""
    keys = [f["key"] for f in fields]
    bad = [k for k in keys if not re.match(_KEY, k)]
    if bad or len(set(keys)) != len(keys):
        raise ValueError(f"field keys must be unique HTML names (letter first, then letters, digits, - or _), got {keys}")
    out = []
    for f in fields:
        f = dict(f)
        if f["kind"] != "choice":
            same = _same_list if f["kind"] == "values" else _close
            merged: list[dict[str, Any]] = []
            for s in f["slips"]:
                if same(s["value"], f["value"], f):
                    continue
                twin = [m for m in merged if same(s["value"], m["value"], f)]
                if twin:
                    twin[0]["hint"] += " 또는 " + s["hint"]
                else:
                    merged.append(dict(s))
            f["slips"] = merged
        out.append(f)
    return {"title": title, "fields": out, "messages": MESSAGES, "parse_messages": PARSE_MESSAGES,
            "list_split": LIST_SPLIT}


# ------------------------------------------------------------------ checking (mirrored in _FORM_JS)
def _strip_unit(text: str, units: Sequence[str]) -> str:
    for unit in units:
        if unit and text.endswith(unit):
            return clean_text(text[: len(text) - len(unit)])
    return text


def _judge(f: Mapping[str, Any], raw: Any, msg: Mapping[str, str], pmsg: Mapping[str, str]) -> tuple[str, str | None]:
    """``(status, hint)`` of one field, hint None when there is nothing to say."""
    if f["kind"] == "choice":
        picked = [o for o in f["options"] if o["key"] == raw]
        if not picked:
            return "missing", None
        return ("correct" if picked[0]["correct"] else "wrong"), picked[0]["feedback"]
    text = _strip_unit(clean_text("" if raw is None else raw), f["units"])
    if f["kind"] == "values":
        tokens = [t for t in re.split(LIST_SPLIT, text) if t != ""]
        if not tokens:
            return "missing", None
        xs = []
        for token in tokens:
            x, code = read_number(token)
            if code is not None:
                return "invalid", pmsg[code].format(raw=token)
            xs.append(x)
        if len(xs) != len(f["value"]):
            return "wrong", msg["count"].format(n=len(f["value"]), m=len(xs))
        if _same_list(xs, f["value"], f):
            return "correct", None
        hits = [s["hint"] for s in f["slips"] if _same_list(xs, s["value"], f)]
        return "wrong", hits[0] if hits else f["hint"]
    x, code = read_number(text)
    if code is not None:
        return "invalid", pmsg[code].format(raw=text)
    if x is None:
        return "missing", None
    if f["kind"] == "integer" and x != math.floor(x):
        return "invalid", msg["not_integer"].format(raw=text)
    if _close(x, f["value"], f):
        return "correct", None
    hits = [s["hint"] for s in f["slips"] if _close(x, s["value"], f)]
    if hits:
        return "wrong", hits[0]
    if f["kind"] == "number" and abs(x - f["value"]) <= 20 * max(f["tol"], f["rel"] * abs(f["value"])):
        return "wrong", msg["rounding"]
    return "wrong", f["hint"]


@dataclass
class CheckResult:
    """Per field a status and a hint (or None), and the feedback lines both views show."""

    status: dict[str, str]
    hints: dict[str, str | None]
    lines: list[str]

    @property
    def all_correct(self) -> bool:
        return all(s == "correct" for s in self.status.values())

    def text(self) -> str:
        return "\n".join(self.lines)


def check(answers: Mapping[str, Any], spec: Mapping[str, Any]) -> CheckResult:
    """Judge ``answers`` (field key → typed text, or option key for a choice; missing = empty)."""
    allowed = [f["key"] for f in spec["fields"]]
    unknown = sorted(set(answers) - set(allowed))
    if unknown:
        raise ValueError(f"unknown answer field(s) {unknown}; allowed: {', '.join(allowed)}")
    msg, pmsg = spec["messages"], spec["parse_messages"]
    status: dict[str, str] = {}
    hints: dict[str, str | None] = {}
    first_in_chain: dict[str, str] = {}
    lines = []
    for f in spec["fields"]:
        s, hint = _judge(f, answers.get(f["key"]), msg, pmsg)
        chain = f.get("chain")
        if chain and s in ("wrong", "invalid"):
            if chain in first_in_chain and s == "wrong":
                hint = msg["later"].format(label=first_in_chain[chain])
            first_in_chain.setdefault(chain, f["label"])
        status[f["key"]], hints[f["key"]] = s, hint
        lines.append(f"{f['label']}: {msg[s]}" + (f" — {hint}" if hint else ""))
    lines.append(summary_line(status, msg))
    return CheckResult(status, hints, lines)


# ------------------------------------------------------------------ the static view
_CHECK_JS = r"""
(function () {
  var root = document.getElementById("%(id)s");
  var spec = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var msg = spec.messages, pmsg = spec.parse_messages, split = new RegExp(spec.list_split);
  function fmt(t, d) { return t.replace(/\{(\w+)\}/g, function (m, k) { return d[k]; }); }
  %(parse)s
  function close(x, t, f) { return Math.abs(x - t) <= Math.max(f.tol, f.rel * Math.abs(t)); }
  function num(a, b) { return a - b; }
  function sameList(xs, t, f) {
    if (xs.length !== t.length) return false;
    var a = f.ordered ? xs.slice() : xs.slice().sort(num), b = f.ordered ? t.slice() : t.slice().sort(num);
    return a.every(function (x, i) { return close(x, b[i], f); });
  }
  function stripUnit(text, units) {
    for (var i = 0; i < units.length; i++) {
      var u = units[i];
      if (u && text.length >= u.length && text.slice(text.length - u.length) === u)
        return dldnaClean(text.slice(0, text.length - u.length));
    }
    return text;
  }
  function firstHint(slips, test) {
    var hits = slips.filter(function (s) { return test(s.value); });
    return hits.length ? hits[0].hint : null;
  }
  function judge(f, raw) {
    if (f.kind === "choice") {
      var picked = f.options.filter(function (o) { return o.key === raw; });
      if (!picked.length) return ["missing", null];
      return [picked[0].correct ? "correct" : "wrong", picked[0].feedback];
    }
    var text = stripUnit(dldnaClean(raw === null ? "" : raw), f.units), hit;
    if (f.kind === "values") {
      var tokens = text.split(split).filter(function (t) { return t !== ""; }), xs = [];
      if (!tokens.length) return ["missing", null];
      for (var i = 0; i < tokens.length; i++) {
        var r = dldnaRead(tokens[i]);
        if (r.code) return ["invalid", fmt(pmsg[r.code], {raw: tokens[i]})];
        xs.push(r.value);
      }
      if (xs.length !== f.value.length) return ["wrong", fmt(msg.count, {n: f.value.length, m: xs.length})];
      if (sameList(xs, f.value, f)) return ["correct", null];
      hit = firstHint(f.slips, function (v) { return sameList(xs, v, f); });
      return ["wrong", hit !== null ? hit : f.hint];
    }
    var read = dldnaRead(text), x = read.value;
    if (read.code) return ["invalid", fmt(pmsg[read.code], {raw: text})];
    if (x === null) return ["missing", null];
    if (f.kind === "integer" && x !== Math.floor(x)) return ["invalid", fmt(msg.not_integer, {raw: text})];
    if (close(x, f.value, f)) return ["correct", null];
    hit = firstHint(f.slips, function (v) { return close(x, v, f); });
    if (hit !== null) return ["wrong", hit];
    if (f.kind === "number" && Math.abs(x - f.value) <= 20 * Math.max(f.tol, f.rel * Math.abs(f.value)))
      return ["wrong", msg.rounding];
    return ["wrong", f.hint];
  }
  function answerOf(f) {
    if (f.kind === "choice") {
      var on = root.querySelector("input[name='" + f.key + "']:checked");
      return on ? on.value : null;
    }
    return root.querySelector("input[name='" + f.key + "']").value;
  }
  function check() {
    var status = [], firstInChain = {}, lines = [];
    spec.fields.forEach(function (f) {
      var res = judge(f, answerOf(f)), s = res[0], hint = res[1];
      if (f.chain && (s === "wrong" || s === "invalid")) {
        if (f.chain in firstInChain && s === "wrong") hint = fmt(msg.later, {label: firstInChain[f.chain]});
        if (!(f.chain in firstInChain)) firstInChain[f.chain] = f.label;
      }
      status.push(s);
      lines.push(f.label + ": " + msg[s] + (hint ? " — " + hint : ""));
      root.querySelectorAll("input[name='" + f.key + "']").forEach(function (el) {
        el.setAttribute("aria-invalid", s === "wrong" || s === "invalid" ? "true" : "false");
      });
    });
    var n = status.length, nc = status.filter(function (s) { return s === "correct"; }).length;
    if (nc === n) lines.push(fmt(msg.all_correct, {n: n}));
    else if (status.every(function (s) { return s === "missing"; })) lines.push(msg.none_entered);
    else lines.push(fmt(msg.summary, {n_total: n, n_correct: nc}));
    var out = root.querySelector(".dldna-feedback");
    out.textContent = "";
    lines.forEach(function (line, i) {
      var el = document.createElement(i < n ? "span" : "b");
      el.className = i < n ? "dldna-status dldna-" + status[i] : "dldna-line";
      el.textContent = line;
      out.appendChild(el); out.appendChild(document.createElement("br"));
    });
  }
  root.querySelector("form").addEventListener("submit", function (e) { e.preventDefault(); check(); });
})();
"""

_EXTRA_CSS = """
#%(id)s .dldna-field { margin: .45em 0; } #%(id)s .dldna-prompt { display: block; margin-bottom: .15em; }
#%(id)s label.dldna-option { display: block; margin-left: .6em; } #%(id)s input[type=text] { width: 10em; }
#%(id)s input[type=radio] { width: auto; }
#%(id)s legend { font-size: 1em; font-weight: normal; padding: 0; margin: 0 0 .15em; }
"""


def _field_html(f: Mapping[str, Any]) -> str:
    e = html.escape
    prompt = f"<span class='dldna-prompt'>{e(f['prompt'])}</span>"
    if f["kind"] == "choice":
        opts = "".join(f"<label class='dldna-option'><input type='radio' name='{f['key']}' value='{o['key']}'> "
                       f"{e(o['text'])}</label>" for o in f["options"])
        return f"<fieldset class='dldna-field' style='border:0;padding:0'><legend>{e(f['prompt'])}</legend>{opts}</fieldset>"
    unit = f" {e(f['units'][0])}" if f["units"] else ""
    mode = "text" if f["kind"] == "values" else ("numeric" if f["kind"] == "integer" else "decimal")
    return (f"<div class='dldna-field'>{prompt}<input type='text' name='{f['key']}' aria-label='{e(f['label'])}' "
            f"inputmode='{mode}' autocomplete='off'>{unit}</div>")


def checker_html(spec: Mapping[str, Any], form_id: str | None = None) -> str:
    """The kernel-free form: the spec as JSON plus a script that runs :func:`check`'s algorithm."""
    form_id = form_id or f"dldna-check-{uuid.uuid4().hex[:8]}"
    if not re.match(_KEY, form_id):
        raise ValueError(f"form_id must be a valid HTML id (letters, digits, - and _), got {form_id!r}")
    spec_json = json.dumps(spec, ensure_ascii=False).replace("</", "<\\/")
    title = f"<p style='margin:0 0 .4em'><b>{html.escape(spec['title'])}</b></p>" if spec["title"] else ""
    fields = "".join(_field_html(f) for f in spec["fields"])
    return (
        f"<div id='{form_id}' class='dldna-checker'>"
        f"<style>{_FORM_CSS % {'id': form_id}}{_EXTRA_CSS % {'id': form_id}}</style>"
        f"<script type='application/json'>{spec_json}</script>"
        f"<form>{title}{fields}<button type='submit' class='dldna-check'>확인</button></form>"
        f"<div class='dldna-feedback' aria-live='polite'></div>"
        f"<script>{_CHECK_JS % {'id': form_id, 'parse': parse_js()}}</script></div>"
    )


# ------------------------------------------------------------------ both views
def _lines_html(result: CheckResult) -> str:
    colour = {"correct": "#1a7f37", "wrong": "#cf222e", "invalid": "#9a6700", "missing": "#57606a"}
    n = len(result.status)
    parts = [f"<span style='color:{colour[s]}'>{html.escape(line)}</span>"
             for s, line in zip(result.status.values(), result.lines[:n])]
    parts += [f"<b>{html.escape(line)}</b>" for line in result.lines[n:]]
    return "<div class='dldna-feedback'>" + "<br>".join(parts) + "</div>"


def checker(fields: Sequence[Mapping[str, Any]], *, title: str = "", live: bool | None = None) -> LiveOrStatic:
    """An exercise's checker: the static form, plus an ipywidgets form when ``live``
    (default: :func:`dldna_helpers.widgets.interactive_frontend`); the static form alone when
    ipywidgets is missing or the form cannot be built."""
    spec = checker_spec(fields, title)
    return with_live_view(lambda: _checker_form(spec, title), checker_html(spec), live)


def _checker_form(spec: Mapping[str, Any], title: str) -> Any:
    import ipywidgets as w

    boxes: dict[str, Any] = {}
    rows: list[Any] = [w.HTML(f"<b>{html.escape(title)}</b>")] if title else []
    for f in spec["fields"]:
        if f["kind"] == "choice":   # a leading "nothing picked" option works in ipywidgets 7 and 8
            boxes[f["key"]] = w.RadioButtons(options=[("(고르지 않음)", "")] + [(o["text"], o["key"]) for o in f["options"]],
                                             value="", layout=w.Layout(width="100%"))
        else:
            boxes[f["key"]] = w.Text(placeholder=f["label"], layout=w.Layout(width="12em"))
        rows += [w.HTML(html.escape(f["prompt"])), boxes[f["key"]]]   # HTML wraps long prompts; Label cuts them
    button = w.Button(description="확인", button_style="primary")
    out = w.HTML()

    def on_click(_: Any) -> None:
        out.value = _lines_html(check({k: (b.value or None) for k, b in boxes.items()}, spec))

    button.on_click(on_click)
    return w.VBox([*rows, button, out])
