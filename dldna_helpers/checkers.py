"""Answer checkers for the exercises: fields declared once, judged by one engine in two views.

An exercise lists its answer fields (:func:`number`, :func:`integer`, :func:`values`,
:func:`choice`) with the right values *computed by its solution code*, the precision an answer
must have (significant digits, decimals, or exact), and the values typical slips produce with a
hint for each. :func:`checker` turns them into one output:

- a self-contained HTML/JavaScript form (the static site, no kernel), whose script runs the
  algorithm of :func:`check` on the spec and writes its feedback with ``textContent``;
- an ipywidgets form when a reader runs the cell (Jupyter, Colab), which calls :func:`check`.

Typed text is read by :mod:`dldna_helpers.answers` (fractions, roots, powers, ×10ⁿ, %, units …)
and its JavaScript twin, so both views accept the same strings and give the same lines. Each
field's precision is stated on the form, and the tolerance is exactly that rule: an answer passes
when it lies within half a unit of the last digit asked for (a correct rounding), so a correct
rounding passes and a slip that differs at that precision does not.
"""
from __future__ import annotations

import html
import json
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from . import answers
from .report import significant  # numbers in feedback: significant digits, ×10ⁿ, no e-notation
from .widgets import LiveOrStatic, with_live_view

__all__ = ["number", "integer", "values", "choice", "checker_spec", "check", "CheckResult", "checker_html",
           "checker", "precision_text", "MESSAGES", "STEP_UNITS", "CLOSE", "engine_js"]

_KEY = r"^[A-Za-z][\w-]*$"
_SLACK = 1e-9          # relative slack on every tolerance: floating-point error, not leniency
_ORDINAL = {1: "첫째", 2: "둘째", 3: "셋째", 4: "넷째", 5: "다섯째", 6: "여섯째"}
STEP_UNITS = ("스텝", "회", "번")   # every field that counts steps takes all three ("35회", "35번")
CLOSE = 0.01   # within 1% (but outside the precision): an intermediate value was probably rounded
MESSAGES = {
    "correct": "맞음", "wrong": "틀림", "missing": "비어 있음", "invalid": "읽을 수 없음",
    "not_integer": "'{raw}'은(는) 정수가 아닙니다. 세는 값은 정수로 적으세요.",
    "count": "값 {n}개를 세미콜론(;)이나 쉼표(,)로 구분해 적으세요. 지금은 {m}개입니다.",
    "too_few": "거의 맞았습니다. 자릿수가 모자랍니다: {precision}까지 적어 주세요.",
    "too_few_exact": "거의 맞았습니다. 반올림하지 말고 정확한 값을 적으세요(분수나 √로 적어도 됩니다).",
    "rounding": "거의 맞았지만 마지막 자리가 다릅니다. 중간 값은 반올림하지 말고 계산한 뒤 마지막에 {precision}까지 반올림하세요.",
    "close": "거의 맞았습니다(정답과 1% 안). 중간 값을 반올림해 계산했다면, 끝까지 반올림하지 말고 계산한 뒤 마지막에 "
             "{precision}까지 반올림하세요.",
    "close_exact": "거의 맞았습니다(정답과 1% 안). 중간 값을 반올림하지 말고 정확한 값(분수나 √, e, ln)으로 적으세요.",
    "generic": "다시 계산해 보세요.",
    "later": "{label}의 오류가 이어진 결과일 수 있으니 {label}부터 고치세요.",
    "all_correct": "모두 맞았습니다! {n}개 답이 전부 정답과 일치합니다.",
    "none_entered": "답을 입력하거나 고른 뒤 '확인'을 누르세요.",
    "summary": "{n_total}개 중 {n_correct}개 맞음.",
    "note": "답은 0.85, 2/3, 35%, √3, 2^-3, 6.1×10⁻⁷, 6.1e-7, 1+√3, 2ln3처럼 적을 수 있습니다(e, π, ln, exp도 됩니다). "
            "쉼표 뒤에 숫자 세 개가 오면 천 단위 구분으로 읽습니다(1,234). 괄호 안은 그 칸이 요구하는 정밀도입니다.",
}


# ------------------------------------------------------------------ precision
def precision_text(precision: Mapping[str, Any]) -> str:
    """How the form states a precision: '유효숫자 3자리', '소수 둘째 자리', '정확한 값', '정수'."""
    if "sig" in precision:
        return f"유효숫자 {precision['sig']}자리"
    if "decimals" in precision:
        return f"소수 {_ORDINAL[precision['decimals']]} 자리"
    return "정수" if precision.get("integer") else "정확한 값"


def _precision(sig: int | None, decimals: int | None, exact: bool, key: str) -> dict[str, Any]:
    given = [sig is not None, decimals is not None, bool(exact)]
    if sum(given) != 1:
        raise ValueError(f"field {key!r}: state exactly one precision: sig=k (significant digits), "
                         f"decimals=d, or exact=True; got sig={sig!r}, decimals={decimals!r}, exact={exact!r}")
    if sig is not None and not (isinstance(sig, int) and 1 <= sig <= 6):
        raise ValueError(f"field {key!r}: sig must be an int from 1 to 6, got {sig!r}")
    if decimals is not None and decimals not in _ORDINAL:
        raise ValueError(f"field {key!r}: decimals must be an int from 1 to {max(_ORDINAL)}, got {decimals!r}")
    return {"sig": sig} if sig is not None else {"decimals": decimals} if decimals is not None else {"exact": True}


def _exponent(v: float) -> int:
    return math.floor(math.log10(abs(v))) if v != 0 else 0


def _exact_digits(v: float) -> int:
    """Significant digits needed to write ``v`` exactly (12 when it has no short decimal form)."""
    text = f"{v:.12g}"
    if abs(float(text) - v) > 1e-12 * max(abs(v), 1e-300):
        return 12
    mantissa = text.split("e")[0].replace("-", "").replace(".", "").lstrip("0").rstrip("0")
    return max(1, len(mantissa))


def _target(value: float, precision: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A value with the tolerance that implements the precision rule, its decimal exponent and the
    significant digits an answer needs (used to tell 'too few digits' from a wrong answer)."""
    v = _finite(value, key)
    e = _exponent(v)
    if "sig" in precision:
        if v == 0:
            raise ValueError(f"field {key!r}: a value of 0 has no significant digits; use decimals= or exact=True")
        k = precision["sig"]
        tol, needed = 0.5 * 10.0 ** (e - k + 1), k
    elif "decimals" in precision:
        d = precision["decimals"]
        tol, needed = 0.5 * 10.0 ** (-d), d + 1 + e
    else:
        tol, needed = 1e-9 * max(abs(v), 1e-3), _exact_digits(v)
    return {"value": v, "tol": tol * (1 + _SLACK), "exp": e, "needed": needed}


def _finite(value: Any, key: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(value, bool) or not math.isfinite(x):
        raise ValueError(f"field {key!r}: the right value must be a finite number, got {value!r}")
    return x


# ------------------------------------------------------------------ declaring fields
def _label(prompt: str, precision: Mapping[str, Any]) -> str:
    """The visible prompt with the precision it asks for: the ``<label>`` of the input."""
    rule = precision_text(precision)
    return f"{prompt} ({rule}{'까지' if 'decimals' in precision else ''})"


def number(key: str, label: str, value: float, *, sig: int | None = None, decimals: int | None = None,
           exact: bool = False, units: Sequence[str] = (), slips: Iterable[tuple[float, str]] = (),
           hint: str | None = None, chain: str | None = None, prompt: str | None = None) -> dict[str, Any]:
    """A number answer. State its precision: ``sig`` significant digits, ``decimals`` decimals, or
    ``exact`` (then 1/4 or 0.25, but not 0.3); an answer is right when it is within half a unit of
    the last digit asked for. ``units`` are words a reader may type after it ('스텝', 'B', or '%' for
    a quantity in percent; otherwise 25% means 0.25); ``slips`` are ``(value, hint)`` pairs judged at
    the same precision; fields of one ``chain`` build on each other, so a later wrong field points
    back to the first wrong one."""
    precision = _precision(sig, decimals, exact, key)
    target = _target(value, precision, key)
    return {"kind": "number", "key": key, "label": label, "prompt": _label(prompt or label, precision),
            "precision": precision, "precision_text": precision_text(precision),
            **target, "units": [answers.clean(u) for u in units],
            "slips": [{**_target(v, precision, key), "hint": str(h)} for v, h in slips],
            "hint": hint or MESSAGES["generic"], "chain": chain}


def integer(key: str, label: str, value: int, *, units: Sequence[str] = (),
            slips: Iterable[tuple[int, str]] = (), hint: str | None = None, chain: str | None = None,
            prompt: str | None = None) -> dict[str, Any]:
    """A whole-number answer (a step count, a number of bytes): right only when equal."""
    if isinstance(value, bool) or int(value) != value:  # also numpy integers
        raise ValueError(f"field {key!r}: an integer field needs an integer value, got {value!r}")
    field = number(key, label, int(value), exact=True, units=units, slips=[(int(v), h) for v, h in slips],
                   hint=hint, chain=chain, prompt=prompt)
    precision = {"exact": True, "integer": True}
    field.update(kind="integer", precision=precision, precision_text=precision_text(precision),
                 prompt=_label(prompt or label, precision))
    return field


def values(key: str, label: str, right: Sequence[float], *, sig: int | None = None, decimals: int | None = None,
           exact: bool = False, ordered: bool = False, slips: Iterable[tuple[Sequence[float], str]] = (),
           hint: str | None = None, prompt: str | None = None) -> dict[str, Any]:
    """A short list of numbers (eigenvalues, a point), each judged at the stated precision; in any
    order unless ``ordered``."""
    if not 1 <= len(right) <= 8:
        raise ValueError(f"field {key!r}: a list field holds 1 to 8 values, got {len(right)}")
    precision = _precision(sig, decimals, exact, key)
    targets = [_target(v, precision, key) for v in right]
    slip_list = []
    for vs, h in slips:
        if len(vs) != len(right):
            raise ValueError(f"field {key!r}: a slip must list {len(right)} values, got {list(vs)}")
        slip_list.append({"items": [_target(v, precision, key) for v in vs], "hint": str(h)})
    return {"kind": "values", "key": key, "label": label, "prompt": _label(prompt or label, precision),
            "precision": precision, "precision_text": precision_text(precision), "items": targets,
            "value": [t["value"] for t in targets], "ordered": ordered, "units": [], "slips": slip_list,
            "hint": hint or MESSAGES["generic"], "chain": None}


def choice(key: str, label: str, options: Sequence[tuple[str, bool, str]], *,
           prompt: str | None = None) -> dict[str, Any]:
    """One of several ``(text, is_right, feedback)`` options; the feedback says why."""
    if sum(bool(right) for _, right, _ in options) != 1 or len(options) < 2:
        raise ValueError(f"field {key!r}: need at least two options and exactly one right one")
    return {"kind": "choice", "key": key, "label": label, "prompt": prompt or label, "chain": None,
            "options": [{"key": "abcdefgh"[i], "text": text, "correct": bool(right), "feedback": feedback}
                        for i, (text, right, feedback) in enumerate(options)]}


# ------------------------------------------------------------------ judging (mirrored in _ENGINE_JS)
def _close(x: float, t: Mapping[str, Any]) -> bool:
    return abs(x - t["value"]) <= t["tol"]


def _order(xs: Sequence[float], ts: Sequence[Mapping[str, Any]], ordered: bool):
    if ordered:
        return list(xs), list(ts)
    return sorted(xs), sorted(ts, key=lambda t: t["value"])


def _same_list(xs: Sequence[float], ts: Sequence[Mapping[str, Any]], ordered: bool) -> bool:
    if len(xs) != len(ts):
        return False
    a, b = _order(xs, ts, ordered)
    return all(_close(x, t) for x, t in zip(a, b))


def _nearness(x: float, digits: int | None, t: Mapping[str, Any]) -> str | None:
    """'too_few' when ``x`` is ``t`` rounded (or cut) to fewer digits than asked, 'rounding' when
    it misses by a unit in the last digit asked for, 'close' when it is within :data:`CLOSE` of it
    (an intermediate value rounded: 0.707^29 for 2^-14.5), else None."""
    gap = abs(x - t["value"])
    if digits is not None and digits < t["needed"] and gap <= 10.0 ** (t["exp"] - digits + 1) * (1 + _SLACK):
        return "too_few"
    if gap <= 2 * t["tol"]:
        return "rounding"
    if gap <= CLOSE * abs(t["value"]) * (1 + _SLACK):
        return "close"
    return None


def _exact_kind(kind: str, precision: Mapping[str, Any]) -> str:
    """An exact field says 'write it exactly' instead of 'round to k digits'."""
    return kind + "_exact" if kind in ("too_few", "close") and "exact" in precision else kind


def checker_spec(fields: Sequence[Mapping[str, Any]], title: str = "") -> dict[str, Any]:
    """The JSON-ready spec of a checker. Slips that the precision cannot tell from the right value
    are dropped (they would be judged right); slips that give the same value are merged, naming
    both."""
    keys = [f["key"] for f in fields]
    bad = [k for k in keys if not re.match(_KEY, k)]
    if bad or len(set(keys)) != len(keys):
        raise ValueError(f"field keys must be unique HTML names (letter first, then letters, digits, - or _), got {keys}")
    out = []
    for f in fields:
        f = dict(f)
        if f["kind"] in ("number", "integer"):
            merged: list[dict[str, Any]] = []
            for s in f["slips"]:
                if _close(s["value"], f) or _close(f["value"], s):
                    continue
                twin = [m for m in merged if _close(s["value"], m) or _close(m["value"], s)]
                if twin:
                    twin[0]["hint"] += " 또는 " + s["hint"]
                else:
                    merged.append(dict(s))
            f["slips"] = merged
        elif f["kind"] == "values":
            merged = []
            for s in f["slips"]:
                xs = [t["value"] for t in s["items"]]
                if _same_list(xs, f["items"], f["ordered"]):
                    continue
                twin = [m for m in merged if _same_list(xs, m["items"], f["ordered"])]
                if twin:
                    twin[0]["hint"] += " 또는 " + s["hint"]
                else:
                    merged.append(dict(s))
            f["slips"] = merged
        out.append(f)
    return {"title": title, "fields": out, "messages": MESSAGES}


def _judge(f: Mapping[str, Any], raw: Any, msg: Mapping[str, str]) -> tuple[str, str | None]:
    """``(status, hint)`` of one field, hint None when there is nothing to say."""
    if f["kind"] == "choice":
        picked = [o for o in f["options"] if o["key"] == raw]
        if not picked:
            return "missing", None
        return ("correct" if picked[0]["correct"] else "wrong"), picked[0]["feedback"]
    many = f["kind"] == "values"
    reading = (answers.read_many(raw, len(f["items"]), f["units"]) if many
               else answers.read(raw, f["units"]))
    if reading.code is not None:
        return "invalid", answers.message(reading, raw, f["units"])
    if reading.empty:
        return "missing", None
    prec = f["precision_text"]
    if many:
        xs = list(reading.values)
        if len(xs) != len(f["items"]):
            return "wrong", msg["count"].format(n=len(f["items"]), m=len(xs))
        if _same_list(xs, f["items"], f["ordered"]):
            return "correct", None
        hits = [s["hint"] for s in f["slips"] if _same_list(xs, s["items"], f["ordered"])]
        if hits:
            return "wrong", hits[0]
        pairs = list(zip(reading.values, reading.digits))
        if not f["ordered"]:
            pairs.sort(key=lambda p: p[0])
        a, ts = [p for p in pairs], _order(xs, f["items"], f["ordered"])[1]
        kinds = [_nearness(x, d, t) for (x, d), t in zip(a, ts)]
        if all(k is not None or _close(x, t) for k, (x, _), t in zip(kinds, a, ts)):
            kind = next(k for k in ("too_few", "close", "rounding") if k in kinds)
            return "wrong", msg[_exact_kind(kind, f["precision"])].format(precision=prec)
        return "wrong", f["hint"]
    x, digits = reading.values[0], reading.digits[0]
    if f["kind"] == "integer" and x != math.floor(x):
        return "invalid", msg["not_integer"].format(raw=answers.clean(raw))
    if _close(x, f):
        return "correct", None
    hits = [s["hint"] for s in f["slips"] if _close(x, s)]
    if hits:
        return "wrong", hits[0]
    if f["kind"] == "number":
        kind = _nearness(x, digits, f)
        if kind is not None:
            return "wrong", msg[_exact_kind(kind, f["precision"])].format(precision=prec)
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


def summary_line(status: Mapping[str, str], msg: Mapping[str, str]) -> str:
    """The line after the per-field verdicts: all correct, nothing entered, or n of m correct."""
    n_total, n_correct = len(status), sum(s == "correct" for s in status.values())
    if n_correct == n_total:
        return msg["all_correct"].format(n=n_total)
    if all(s == "missing" for s in status.values()):
        return msg["none_entered"]
    return msg["summary"].format(n_total=n_total, n_correct=n_correct)


def check(answers_: Mapping[str, Any], spec: Mapping[str, Any]) -> CheckResult:
    """Judge the answers (field key → typed text, or option key for a choice; missing = empty)."""
    allowed = [f["key"] for f in spec["fields"]]
    unknown = sorted(set(answers_) - set(allowed))
    if unknown:
        raise ValueError(f"unknown answer field(s) {unknown}; allowed: {', '.join(allowed)}")
    msg = spec["messages"]
    status: dict[str, str] = {}
    hints: dict[str, str | None] = {}
    first_in_chain: dict[str, str] = {}
    lines = []
    for f in spec["fields"]:
        s, hint = _judge(f, answers_.get(f["key"]), msg)
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
_ENGINE_JS = r"""
var DLDNA_CHECKER = (function (A) {
  var fmt = A.fmt, SLACK = %(slack)s, CLOSE = %(close)s;
  function close(x, t) { return Math.abs(x - t.value) <= t.tol; }
  function byValue(a, b) { return a - b; }
  function order(xs, ts, ordered) {
    if (ordered) return [xs.slice(), ts.slice()];
    return [xs.slice().sort(byValue), ts.slice().sort(function (a, b) { return a.value - b.value; })];
  }
  function sameList(xs, ts, ordered) {
    if (xs.length !== ts.length) return false;
    var o = order(xs, ts, ordered);
    return o[0].every(function (x, i) { return close(x, o[1][i]); });
  }
  function nearness(x, digits, t) {
    var gap = Math.abs(x - t.value);
    if (digits !== null && digits < t.needed && gap <= Math.pow(10, t.exp - digits + 1) * (1 + SLACK)) return "too_few";
    if (gap <= 2 * t.tol) return "rounding";
    if (gap <= CLOSE * Math.abs(t.value) * (1 + SLACK)) return "close";
    return null;
  }
  function exactKind(kind, precision) {
    return (kind === "too_few" || kind === "close") && precision.exact ? kind + "_exact" : kind;
  }
  function judge(f, raw, msg) {
    if (f.kind === "choice") {
      var picked = f.options.filter(function (o) { return o.key === raw; });
      if (!picked.length) return ["missing", null];
      return [picked[0].correct ? "correct" : "wrong", picked[0].feedback];
    }
    var many = f.kind === "values", prec = f.precision_text, hits, kind;
    var r = many ? A.read(raw, f.units, true, f.items.length) : A.read(raw, f.units, false, null);
    if (r.code !== null) return ["invalid", A.message(r, raw, f.units)];
    if (!r.values.length) return ["missing", null];
    if (many) {
      var xs = r.values;
      if (xs.length !== f.items.length) return ["wrong", fmt(msg.count, {n: f.items.length, m: xs.length})];
      if (sameList(xs, f.items, f.ordered)) return ["correct", null];
      hits = f.slips.filter(function (s) { return sameList(xs, s.items, f.ordered); });
      if (hits.length) return ["wrong", hits[0].hint];
      var pairs = xs.map(function (x, i) { return [x, r.digits[i]]; });
      if (!f.ordered) pairs.sort(function (a, b) { return a[0] - b[0]; });
      var ts = order(xs, f.items, f.ordered)[1];
      var kinds = pairs.map(function (p, i) { return nearness(p[0], p[1], ts[i]); });
      if (kinds.every(function (k, i) { return k !== null || close(pairs[i][0], ts[i]); })) {
        kind = kinds.indexOf("too_few") >= 0 ? "too_few" : kinds.indexOf("close") >= 0 ? "close" : "rounding";
        return ["wrong", fmt(msg[exactKind(kind, f.precision)], {precision: prec})];
      }
      return ["wrong", f.hint];
    }
    var x = r.values[0], digits = r.digits[0];
    if (f.kind === "integer" && x !== Math.floor(x)) return ["invalid", fmt(msg.not_integer, {raw: A.clean(raw)})];
    if (close(x, f)) return ["correct", null];
    hits = f.slips.filter(function (s) { return close(x, s); });
    if (hits.length) return ["wrong", hits[0].hint];
    if (f.kind === "number") {
      kind = nearness(x, digits, f);
      if (kind !== null) return ["wrong", fmt(msg[exactKind(kind, f.precision)], {precision: prec})];
    }
    return ["wrong", f.hint];
  }
  function has(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }
  function check(spec, answers) {
    var msg = spec.messages, status = {}, hints = {}, firstInChain = {}, lines = [], keys = [];
    spec.fields.forEach(function (f) {
      var raw = has(answers, f.key) && answers[f.key] !== undefined ? answers[f.key] : null;
      var res = judge(f, raw, msg), s = res[0], hint = res[1];
      if (f.chain && (s === "wrong" || s === "invalid")) {
        if (has(firstInChain, f.chain) && s === "wrong") hint = fmt(msg.later, {label: firstInChain[f.chain]});
        if (!has(firstInChain, f.chain)) firstInChain[f.chain] = f.label;
      }
      keys.push(f.key); status[f.key] = s; hints[f.key] = hint;
      lines.push(f.label + ": " + msg[s] + (hint ? " — " + hint : ""));
    });
    var n = keys.length, nc = keys.filter(function (k) { return status[k] === "correct"; }).length;
    if (nc === n) lines.push(fmt(msg.all_correct, {n: n}));
    else if (keys.every(function (k) { return status[k] === "missing"; })) lines.push(msg.none_entered);
    else lines.push(fmt(msg.summary, {n_total: n, n_correct: nc}));
    return {status: status, hints: hints, lines: lines};
  }
  return {check: check};
})(DLDNA_ANSWERS);
"""

def engine_js() -> str:
    """The JavaScript judge (``DLDNA_CHECKER.check(spec, answers)``) with this module's constants;
    it needs :func:`answers.answer_js` loaded first."""
    return _ENGINE_JS.replace("%(slack)s", repr(_SLACK)).replace("%(close)s", repr(CLOSE))


_FORM_JS = r"""
(function () {
  var root = document.getElementById("%(id)s");
  var spec = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  function answerOf(f) {
    if (f.kind === "choice") {
      var on = root.querySelector("input[name='" + f.key + "']:checked");
      return on ? on.value : null;
    }
    return root.querySelector("input[name='" + f.key + "']").value;
  }
  function show() {
    var answers = {};
    spec.fields.forEach(function (f) { answers[f.key] = answerOf(f); });
    var res = DLDNA_CHECKER.check(spec, answers), n = spec.fields.length;
    spec.fields.forEach(function (f) {
      var bad = res.status[f.key] === "wrong" || res.status[f.key] === "invalid";
      root.querySelectorAll("input[name='" + f.key + "']").forEach(function (el) {
        el.setAttribute("aria-invalid", bad ? "true" : "false");
      });
    });
    var out = root.querySelector(".dldna-feedback");
    out.textContent = "";
    res.lines.forEach(function (line, i) {
      var el = document.createElement(i < n ? "span" : "b");
      el.className = i < n ? "dldna-status dldna-" + res.status[spec.fields[i].key] : "dldna-line";
      el.textContent = line;
      out.appendChild(el); out.appendChild(document.createElement("br"));
    });
  }
  root.querySelector("form").addEventListener("submit", function (e) { e.preventDefault(); show(); });
})();
"""

_FORM_CSS = """
#%(id)s { border: 1px solid #d0d7de; border-radius: 6px; padding: .8em 1em; margin: .5em 0; max-width: 40em; }
#%(id)s .dldna-field { margin: .5em 0; }
#%(id)s label.dldna-prompt { display: block; margin-bottom: .15em; }
#%(id)s input[type=text] { width: 14em; max-width: 100%%; font-family: monospace; }
#%(id)s label.dldna-option { display: block; margin-left: .6em; }
#%(id)s fieldset { border: 0; padding: 0; margin: .5em 0; }
#%(id)s legend { font-size: 1em; font-weight: normal; padding: 0; margin: 0 0 .15em; }
#%(id)s .dldna-note { font-size: .9em; margin: 0 0 .4em; }
#%(id)s .dldna-correct { color: #1a7f37; } #%(id)s .dldna-wrong { color: #cf222e; }
#%(id)s .dldna-invalid { color: #9a6700; } #%(id)s .dldna-missing { color: #57606a; }
"""


def _field_html(f: Mapping[str, Any], form_id: str) -> str:
    e = html.escape
    if f["kind"] == "choice":
        # each option its own id, so that its wrapping <label> names it (and tests can find it)
        opts = "".join(f"<label class='dldna-option'><input type='radio' name='{f['key']}' value='{o['key']}' "
                       f"id='{e(form_id)}-{e(f['key'])}-{e(o['key'])}'> "
                       f"{e(o['text'])}</label>" for o in f["options"])
        return f"<fieldset class='dldna-field'><legend>{e(f['prompt'])}</legend>{opts}</fieldset>"
    box = f"{form_id}-{f['key']}"
    # the visible prompt is the input's <label>: its accessible name is exactly what a reader sees
    return (f"<div class='dldna-field'><label class='dldna-prompt' for='{box}'>{e(f['prompt'])}</label>"
            f"<input type='text' id='{box}' name='{f['key']}' maxlength='{answers.MAX_CHARS}' inputmode='text' "
            f"autocomplete='off' autocapitalize='off' spellcheck='false'></div>")


def checker_html(spec: Mapping[str, Any], form_id: str | None = None) -> str:
    """The kernel-free form: the spec as JSON plus a script that runs :func:`check`'s algorithm."""
    form_id = form_id or f"dldna-check-{uuid.uuid4().hex[:8]}"
    if not re.match(_KEY, form_id):
        raise ValueError(f"form_id must be a valid HTML id (letters, digits, - and _), got {form_id!r}")
    spec_json = json.dumps(spec, ensure_ascii=False).replace("</", "<\\/")
    title = f"<p class='dldna-title' style='margin:0 0 .3em'><b>{html.escape(spec['title'])}</b></p>" if spec["title"] else ""
    note = f"<p class='dldna-note'>{html.escape(spec['messages']['note'])}</p>"
    fields = "".join(_field_html(f, form_id) for f in spec["fields"])
    script = engine_js() + _FORM_JS.replace("%(id)s", form_id)
    return (
        f"<div id='{form_id}' class='dldna-checker'>"
        f"<style>{_FORM_CSS % {'id': form_id}}</style>"
        f"<script type='application/json'>{spec_json}</script>"
        f"<form novalidate>{title}{note}{fields}<button type='submit' class='dldna-check'>확인</button></form>"
        f"<div class='dldna-feedback' aria-live='polite'></div>"
        f"<script>{answers.answer_js()}{script}</script></div>"
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
    rows.append(w.HTML(f"<small>{html.escape(spec['messages']['note'])}</small>"))
    for f in spec["fields"]:
        if f["kind"] == "choice":   # a leading "nothing picked" option works in ipywidgets 7 and 8
            boxes[f["key"]] = w.RadioButtons(options=[("(고르지 않음)", "")] + [(o["text"], o["key"]) for o in f["options"]],
                                             value="", layout=w.Layout(width="100%"))
        else:
            boxes[f["key"]] = w.Text(placeholder=f["label"], layout=w.Layout(width="14em"))
        rows += [w.HTML(html.escape(f["prompt"])), boxes[f["key"]]]   # HTML wraps long prompts; Label cuts them
    button = w.Button(description="확인", button_style="primary")
    out = w.HTML()

    def on_click(_: Any) -> None:
        out.value = _lines_html(check({k: (b.value or None) for k, b in boxes.items()}, spec))

    button.on_click(on_click)
    return w.VBox([*rows, button, out])
