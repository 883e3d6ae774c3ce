"""How a typed answer is read: one grammar, one small parser, in Python and (identically) JavaScript.

The exercise checkers (:mod:`dldna_helpers.checkers`) read what a reader types with :func:`read`
here and, on the static site, with the JavaScript :func:`answer_js` returns: the same algorithm
written twice, token by token, with the vocabulary (separators, unit words, fillers) generated from
the constants of this module. ``tests/answer_table.py`` holds one table of inputs with the verdict
each must get; ``tests/test_answers.py`` runs it through Python and
``tests/test_exercise_browser.py`` through the built page's JavaScript in Chromium.

What a reader may type (after NFKC, so full-width １.６ is 1.6; super- and subscripts are kept):

- decimals with a point or a comma: ``0.25``, ``0,25``, ``.5``; a comma followed by exactly three
  digits after 1–3 leading digits is a thousands separator, as Korean prose writes numbers
  (``16,384``, ``1,234,567.5``); a second decimal separator (``1.6.0``, ``1,6,0``) is refused;
- e-notation ``4.3e-5`` and powers of ten ``4.3×10⁻⁵``, ``4.3x10^-5``, ``4.3·10**-5``;
- fractions ``1/4``, ``8/5``, roots ``√2``, ``1/√2``, ``√(10)``, ``sqrt(2)``, ``2√2``, powers
  ``2^-14.5``, ``4^7``, ``2⁻¹⁵``, parentheses and a factor written before them (``2(1+0.5)/4``);
  the constants ``e`` and ``π`` (``pi``) and the functions ``ln`` and ``exp`` (``2√e``,
  ``0.5√(2ln1.2)``, ``exp(-1)``); ``log`` is refused as ambiguous (natural or base 10?);
- addition and subtraction inside parentheses (``1/(1 - 0.8)``, ``(√2-1)^4``) or written without a
  space before the operator (``1+√0.1``, ``17-12√2``); a sign after a space starts a new value, so
  ``2 −2`` stays a pair and, in a one-value field, ``1 - 0.8`` is refused with a message that says
  how to write it;
- a sign in front (``-0.25``, the Unicode minus);
- a percent sign ``25%`` (0.25, or 25 in a field whose unit is %), unit words after the number
  (``35스텝``, ``35 회``, ``8 bytes``, ``8B``) and fillers such as ``약 0.7``, ``0.7 정도``,
  ``0.71배``, and a leading ``x₁ =`` or ``η >`` (everything up to the last ``=``, ``≈``, ``<``,
  ``≤``, ``>`` or ``≥`` is dropped; nothing left after it is refused);
- several values (a pair, a list) separated by ``;``, ``,`` or spaces, optionally in ``( )`` or
  ``[ ]``: ``(1, 1)``, ``2,-2``, ``2; -2``, ``0,5; 1,5``.

No ``eval``: a tokenizer makes one pass over the text and a recursive-descent parser one pass over
the tokens (nesting at most :data:`MAX_DEPTH`), so reading takes time linear in the length; the
length itself is capped at :data:`MAX_CHARS` before anything else is done (the form's
``maxlength``), so even 10⁵ characters are refused at once.
"""
from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from typing import Any, Sequence

__all__ = ["MAX_CHARS", "MAX_DEPTH", "PARSE_MESSAGES", "Reading", "read", "read_many", "clean",
           "answer_js", "FILLERS", "KNOWN_UNITS", "CONSTANTS", "FUNCTIONS"]

MAX_CHARS = 120     # longer answers are refused before they are read (and the form's maxlength)
MAX_DEPTH = 12      # parentheses, roots and powers nested deeper than this are refused

# Characters read as nothing at all: controls, every kind of space, zero-width marks, the BOM.
_IGNORED = [(0x00, 0x20), (0x7F, 0xA0), (0xAD, 0xAD), (0x1680, 0x1680), (0x2000, 0x200F),
            (0x2028, 0x202F), (0x205F, 0x2064), (0x3000, 0x3000), (0xFEFF, 0xFEFF)]
# Kept as they are (NFKC would turn 2⁻⁵ into 2-5 and x₁ into x1).
_SCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻₀₁₂₃₄₅₆₇₈₉₊₋"
# One symbol per operator: every spelling a reader may use maps to it.
_SYMBOLS = {
    "-": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2212": "-",
    "+": "+",
    "×": "*", "*": "*", "·": "*", "\u22c5": "*", "\u2219": "*", "\u30fb": "*",
    "/": "/", "÷": "/", "\u2044": "/", "\u2215": "/",
    "^": "^", "√": "√", "%": "%",
    "(": "(", ")": ")", "[": "(", "]": ")",
    ",": ",", "\u3001": ",", ";": ";",
    "=": "=", "≈": "=", "~": "~", "\u301c": "~",
}
_SUPER_DIGITS = {"⁰": 0, "¹": 1, "²": 2, "³": 3, "⁴": 4, "⁵": 5, "⁶": 6, "⁷": 7, "⁸": 8, "⁹": 9}
# Letters that may form words (units, fillers, the name before '='): Latin, Greek, Hangul,
# subscripts and the prime/star of names like t*.
_WORD_RANGES = [(0x41, 0x5A), (0x61, 0x7A), (0x370, 0x3FF), (0x1100, 0x11FF), (0x3130, 0x318F),
                (0xAC00, 0xD7A3), (0x2080, 0x209C), (0x2032, 0x2032)]
# A reader may name the answer first: 'x₁ = 1.6', 'η > 0.25'; everything up to the last of these goes.
_PREFIX_ENDS = "=≈<≤>≥"
# Words that may stand before or after an answer and mean nothing for its value.
FILLERS = ("약", "대략", "about", "정도", "쯤", "가량", "내외", "안팎", "배", "번째", "이다", "입니다",
           "이에요", "예요", "요")
# Unit words some field accepts; a known unit that is not the field's own is named as such.
KNOWN_UNITS = ("스텝", "회", "번", "바이트", "bytes", "byte", "B", "에포크", "개", "%")
# Names a reader may use inside an expression: constants and one-argument functions.
CONSTANTS = {"e": math.e, "π": math.pi, "pi": math.pi}
FUNCTIONS = ("ln", "exp")

PARSE_MESSAGES = {
    "invalid": "'{raw}'은(는) 숫자로 읽을 수 없습니다. 예: 0.85, 2/3, 35%, √3, 2^-3, 6.1×10⁻⁷, 6.1e-7, 1+√3",
    "comma": "'{raw}'에는 소수점이 여러 개이거나 천 단위 쉼표 뒤에 소수 쉼표가 있습니다. 소수점은 점 하나로 쓰세요.",
    "nonfinite": "'{raw}'의 값이 유한한 수가 아닙니다(0으로 나누었거나 너무 큽니다).",
    "several": "'{raw}'에는 값이 여러 개 있습니다. 이 칸에는 값 하나만 적으세요.",
    "arith": "'{raw}'에서 덧셈·뺄셈 기호 앞을 띄어 썼습니다. 계산해서 적거나, 띄어 쓰지 말고(1+√3) 또는 "
             "괄호로 묶어((1 + √3)) 적으세요.",
    "log": "'{raw}'의 log는 밑이 자연로그인지 10인지 모호합니다. 자연로그는 ln으로 적거나, 계산해서 적으세요.",
    "unit": "'{word}'은(는) 이 답의 단위가 아닙니다. {allowed}",
    "word": "'{word}'을(를) 읽을 수 없습니다. 숫자 뒤에는 단위나 '정도' 같은 말만 붙일 수 있습니다.",
    "too_long": "답이 너무 깁니다({n}자). {max}자 안으로 적으세요.",
    "deep": "괄호나 거듭제곱이 너무 깊게 겹쳐 있습니다. 더 간단히 적으세요.",
}
UNIT_NONE = "이 칸에는 단위를 붙이지 않습니다."
UNIT_SOME = "쓸 수 있는 단위: {units}"


@dataclass(frozen=True)
class Reading:
    """What a typed answer says: ``values`` (one per item), each item's significant digits when
    it is a plain decimal (``4.30``, ``4.3×10⁻⁵``: 3 and 2) or None (a fraction, a root …), and
    ``code``/``detail`` when it cannot be read (``values`` is then empty). Empty input: no values,
    no code."""

    values: tuple[float, ...] = ()
    digits: tuple[int | None, ...] = ()
    code: str | None = None
    detail: dict[str, Any] | None = None

    @property
    def empty(self) -> bool:
        return not self.values and self.code is None


def _in(ranges: Sequence[tuple[int, int]], ch: str) -> bool:
    c = ord(ch)
    return any(lo <= c <= hi for lo, hi in ranges)


def clean(raw: Any) -> str:
    """NFKC outside super/subscripts (full-width digits and ％ become ASCII, ½ becomes 1⁄2),
    then ignored characters (spaces, controls, zero-width marks) turned into single spaces and
    cut from both ends — in one pass, so time is linear in the length."""
    text = str(raw)
    out, run = [], []
    for ch in text:
        if ch in _SCRIPTS:
            if run:
                out.append(unicodedata.normalize("NFKC", "".join(run)))
                run = []
            out.append(ch)
        else:
            run.append(ch)
    if run:
        out.append(unicodedata.normalize("NFKC", "".join(run)))
    chars, space = [], False
    for ch in "".join(out):
        if _in(_IGNORED, ch):
            space = bool(chars)
        else:
            if space:
                chars.append(" ")
            chars.append(ch)
            space = False
    return "".join(chars)


# ------------------------------------------------------------------ tokens
# (kind, value, digits): kind "num" (value, significant digits), "sup" (an integer exponent),
# "op" (one of _SYMBOLS' values), "const" (e, π), "func" (ln, exp), "word" (text),
# "gap" (whitespace between tokens).
class _Refused(Exception):
    def __init__(self, code: str, **detail: Any) -> None:
        super().__init__(code)
        self.code, self.detail = code, detail


def _is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _number(text: str, i: int, comma_in_number: bool) -> tuple[tuple[str, float, int], int]:
    """The decimal literal starting at ``i`` (a digit, or a point before a digit). With
    ``comma_in_number`` a comma may be a thousands separator (``,ddd`` after 1–3 leading digits,
    not followed by another digit) or else a decimal comma; without it a comma ends the number."""
    n, start = len(text), i
    while i < n and _is_digit(text[i]):
        i += 1
    groups = 0
    if comma_in_number and 1 <= i - start <= 3 and text[start] != "0":
        while (i + 3 < n and text[i] == "," and all(_is_digit(c) for c in text[i + 1:i + 4])
               and not (i + 4 < n and _is_digit(text[i + 4]))):
            i += 4
            groups += 1
    seps = []
    while i + 1 < n and (text[i] == "." or (text[i] == "," and comma_in_number)) and _is_digit(text[i + 1]):
        seps.append(text[i])
        i += 1
        while i < n and _is_digit(text[i]):
            i += 1
    if i < n and text[i] == "." and not seps and i > start:   # "1." is one point zero
        seps.append(".")
        i += 1
    if len(seps) > 1 or (groups and seps and seps[0] == ","):
        raise _Refused("comma" if "," in seps or groups else "invalid")
    body = text[start:i]
    if groups:
        body = body.replace(",", "")
    elif seps and seps[0] == ",":
        body = body.replace(",", ".")
    mantissa = body
    if i + 1 < n and text[i] in "eE":          # e-notation: e, an optional sign, digits
        j = i + 1
        if text[j] in "+-" and j + 1 < n and _is_digit(text[j + 1]):
            j += 1
        if _is_digit(text[j]):
            while j < n and _is_digit(text[j]):
                j += 1
            body, i = body + text[i:j], j
    significant = mantissa.replace(".", "").lstrip("0")
    digits = len(significant) if significant else max(1, len(mantissa.split(".")[1]) if "." in mantissa else 1)
    value = float(body)
    if not math.isfinite(value):
        raise _Refused("nonfinite")
    return ("num", value, digits), i


def _tokens(text: str, comma_in_number: bool) -> list[tuple[str, Any, Any]]:
    """Tokens of a cleaned text, in one left-to-right pass."""
    out: list[tuple[str, Any, Any]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == " ":
            if out and out[-1][0] != "gap":
                out.append(("gap", None, None))
            i += 1
        elif _is_digit(ch) or (ch == "." and i + 1 < n and _is_digit(text[i + 1])):
            token, i = _number(text, i, comma_in_number)
            out.append(token)
        elif ch in "⁺⁻" or ch in _SUPER_DIGITS:
            sign, j = 1, i
            if text[j] in "⁺⁻":
                sign, j = (-1 if text[j] == "⁻" else 1), j + 1
            k = j
            while k < n and text[k] in _SUPER_DIGITS:
                k += 1
            if k == j:
                raise _Refused("invalid")
            value = 0
            for c in text[j:k]:
                value = 10 * value + _SUPER_DIGITS[c]
            out.append(("sup", sign * value, None))
            i = k
        elif ch == "*" and i + 1 < n and text[i + 1] == "*":
            out.append(("op", "^", None))
            i += 2
        elif ch in _SYMBOLS:
            out.append(("op", _SYMBOLS[ch], None))
            i += 1
        elif _in(_WORD_RANGES, ch):
            j = i
            while j < n and _in(_WORD_RANGES, text[j]):
                j += 1
            word = text[i:j]
            if word in ("x", "X"):
                out.append(("op", "*", None))
            elif word.lower() == "sqrt":
                out.append(("op", "√", None))
            elif word in CONSTANTS or word.lower() == "pi":
                out.append(("const", CONSTANTS[word if word in CONSTANTS else "pi"], None))
            elif word.lower() in FUNCTIONS:
                out.append(("func", word.lower(), None))
            elif word.lower() == "log":
                raise _Refused("log")
            else:
                out.append(("word", word, None))
            i = j
        else:
            raise _Refused("invalid")
    if out and out[-1][0] == "gap":
        out.pop()
    return out


# ------------------------------------------------------------------ parser
class _Parser:
    """Recursive descent over the tokens (gaps are skipped except where they separate items).

    item   := expr ['%']
    expr   := term (('+' | '-') term)*     adds only inside parentheses or with no gap before the sign
    term   := signed (('*' | '/') signed | juxtaposed)*
              juxtaposed: '√', '(', a constant or a function right after (2√2, 2(3), 2π, 2 ln 3);
              with a space between only inside parentheses or in a one-value field (in a list a
              space separates values)
    signed := ['+' | '-'] power
    power  := root ('^' signed | sup)?
    root   := '√' root | func signed | atom
    atom   := num | const | '(' expr ')'
    Digits: a literal keeps its significant digits through a sign, '%' and a factor 10ⁿ; any other
    operation makes the value exact as far as rounding goes (None)."""

    def __init__(self, tokens: list[tuple[str, Any, Any]], many: bool = False) -> None:
        self.t, self.i, self.depth, self.literal_ten, self.many = tokens, 0, 0, False, many

    def peek(self, skip_gap: bool = True) -> tuple[str, Any, Any] | None:
        j = self.i
        while skip_gap and j < len(self.t) and self.t[j][0] == "gap":
            j += 1
        return self.t[j] if j < len(self.t) else None

    def take(self) -> tuple[str, Any, Any]:
        while self.t[self.i][0] == "gap":
            self.i += 1
        token = self.t[self.i]
        self.i += 1
        return token

    def is_op(self, *ops: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "op" and token[1] in ops

    def starts_item(self) -> bool:
        token = self.peek()
        return token is not None and (token[0] in ("num", "const", "func")
                                      or (token[0] == "op" and token[1] in ("(", "√", "-", "+")))

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused("deep")

    def item(self) -> tuple[float, int | None, bool]:
        value, digits = self.expr()
        percent = False
        if self.is_op("%"):
            self.take()
            percent = True
        return value, (digits if digits and digits > 0 else None), percent

    def expr(self) -> tuple[float, int | None]:
        value, digits = self.term()
        while True:
            glued = self.peek(skip_gap=False)
            if not ((glued is not None and glued[0] == "op" and glued[1] in ("+", "-"))
                    or (self.depth > 0 and self.is_op("+", "-"))):
                return value, digits
            op = self.take()[1]
            right, _ = self.term()
            value, digits = (value + right if op == "+" else value - right), None

    def term(self) -> tuple[float, int | None]:
        value, digits = self.signed()
        while True:
            glued = self.peek(skip_gap=self.depth > 0 or not self.many)
            if self.is_op("*", "/"):
                op = self.take()[1]
                right, rdigits = self.signed()
                if op == "*":
                    value = value * right
                    digits = digits if (rdigits == 0 and digits and digits > 0) else None
                else:
                    value = value / right if right != 0 else math.inf
                    digits = None
            elif glued is not None and (glued[:2] in (("op", "√"), ("op", "(")) or glued[0] in ("const", "func")):
                right, _ = self.signed()     # 2√2, 2(1+0.5), 2π, 2ln3: a factor written right before
                value, digits = value * right, None
            else:
                return value, digits

    def signed(self) -> tuple[float, int | None]:
        sign = 1.0
        if self.is_op("-", "+"):
            sign = -1.0 if self.take()[1] == "-" else 1.0
        value, digits = self.power()
        return sign * value, (digits if digits != 0 or sign > 0 else None)

    def power(self) -> tuple[float, int | None]:
        base, digits = self.root()
        was_ten = self.literal_ten
        exponent = None
        if self.is_op("^"):
            self.take()
            self.enter()
            exponent, edigits = self.signed()
            self.depth -= 1
            integer = edigits is not None and exponent == math.floor(exponent)
        elif self.peek() is not None and self.peek()[0] == "sup":
            exponent, integer = float(self.take()[1]), True
        if exponent is None:
            return base, digits
        ten = digits == 2 and base == 10.0 and was_ten
        value = _power(base, exponent)
        return value, (0 if ten and integer else None)

    def root(self) -> tuple[float, int | None]:
        self.literal_ten = False
        token = self.peek()
        if token is not None and token[:2] == ("op", "√"):
            self.take()
            self.enter()
            value, _ = self.root()
            self.depth -= 1
            self.literal_ten = False
            return (math.sqrt(value) if value >= 0 else math.nan), None
        if token is not None and token[0] == "func":
            self.take()
            self.enter()
            arg, _ = self.signed()
            self.depth -= 1
            self.literal_ten = False
            return _function(token[1], arg), None
        return self.atom()

    def atom(self) -> tuple[float, int | None]:
        token = self.peek()
        if token is None:
            raise _Refused("invalid")
        if token[0] == "num":
            self.take()
            self.literal_ten = token[1] == 10.0 and token[2] == 2
            return token[1], token[2]
        if token[0] == "const":
            self.take()
            return token[1], None
        if token[:2] == ("op", "("):
            self.take()
            self.enter()
            value, _ = self.expr()
            self.depth -= 1
            if not self.is_op(")"):
                raise _Refused("invalid")
            self.take()
            self.literal_ten = False
            return value, None
        raise _Refused("invalid")


def _function(name: str, arg: float) -> float:
    """ln or exp of ``arg``; nan where it is not defined, inf where it overflows."""
    if not math.isfinite(arg):
        return math.nan
    if name == "ln":
        return math.log(arg) if arg > 0 else math.nan
    try:
        return math.exp(arg)
    except OverflowError:
        return math.inf


def _power(base: float, exponent: float) -> float:
    if not (math.isfinite(base) and math.isfinite(exponent)):
        return math.nan
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return math.inf
    except (ValueError, ZeroDivisionError):
        return math.nan if base < 0 else math.inf


def _split_word(word: str, units: Sequence[str]) -> tuple[str | None, str | None]:
    """(unit found, None) or (None, the word that cannot be read): a trailing word is a unit of
    this field and/or fillers, glued or not ('35스텝입니다')."""
    vocabulary = sorted(set(units) | set(FILLERS) | set(KNOWN_UNITS), key=len, reverse=True)
    low, pos, unit = word.lower(), 0, None
    while pos < len(low):
        hit = next((v for v in vocabulary if low.startswith(v.lower(), pos)), None)
        if hit is None:
            return None, word
        if hit not in FILLERS:
            if not any(hit.lower() == u.lower() for u in units):
                return hit, None
            unit = unit or hit
        pos += len(hit)
    return unit, None


def _read_tokens(tokens, units: Sequence[str], many: bool) -> tuple[list[float], list[int | None]]:
    p = _Parser(tokens, many)
    percent_is_unit = "%" in units
    # leading fillers: 약, 대략, ~
    while p.peek() is not None and (p.peek()[:2] == ("op", "~") or (p.peek()[0] == "word" and p.peek()[1] in FILLERS)):
        p.take()
    bracket = many and p.is_op("(")
    if bracket:
        p.take()
    values, digits = [], []
    while True:
        value, d, percent = p.item()
        if percent and not percent_is_unit:
            value = value / 100
        values.append(value)
        digits.append(d)
        if not many:
            break
        if p.is_op(",", ";"):
            p.take()
            continue
        if not p.starts_item():
            break
    if bracket:
        if not p.is_op(")"):
            raise _Refused("invalid")
        p.take()
    while p.peek() is not None:
        token = p.take()
        if token[0] == "word":
            unit, bad = _split_word(token[1], units)
            if bad is not None:
                raise _Refused("word", word=bad)
            if unit is not None and not any(unit.lower() == u.lower() for u in units):
                raise _Refused("unit", word=unit)
        elif token[:2] == ("op", "~"):
            continue
        elif not many and token[:2] in (("op", "-"), ("op", "+")):
            raise _Refused("arith")       # '1 - 0.8': a sign after a space, in a one-value field
        elif not many and (token[0] in ("num", "const", "func") or token[:2] in (("op", "("), ("op", "√"))):
            raise _Refused("several")
        else:
            raise _Refused("invalid")
    if not all(math.isfinite(v) for v in values):
        raise _Refused("nonfinite")
    return values, digits


def _strip_prefix(text: str) -> str:
    """Everything after the last of :data:`_PREFIX_ENDS` (a reader may write 'x₁ = 1.6', 'η > 0.25')."""
    cut = max(text.rfind(c) for c in _PREFIX_ENDS)
    return text[cut + 1:].strip() if cut >= 0 else text


def _reading(text: str, units: Sequence[str], many: bool, count: int | None) -> Reading:
    def attempt(comma_in_number: bool) -> Reading:
        try:
            values, digits = _read_tokens(_tokens(text, comma_in_number), units, many)
        except _Refused as refused:
            return Reading(code=refused.code, detail=refused.detail)
        return Reading(tuple(values), tuple(digits))

    first = attempt(True)
    if many and count is not None and "," in text and (first.code is not None or len(first.values) != count):
        second = attempt(False)          # '(1,1)' and '2,-2' in a pair: commas as separators
        if second.code is None and len(second.values) == count:
            return second
    return first


def read(raw: Any, units: Sequence[str] = ()) -> Reading:
    """One typed value (see the module doc for what is accepted), with the field's ``units``."""
    return _read(raw, units, many=False, count=None)


def read_many(raw: Any, count: int, units: Sequence[str] = ()) -> Reading:
    """Several typed values, ``count`` expected (commas also separate items when that is what
    makes the count right: ``(1,1)`` is a pair, not 1.1)."""
    return _read(raw, units, many=True, count=count)


def _read(raw: Any, units: Sequence[str], many: bool, count: int | None) -> Reading:
    if raw is None:
        return Reading()
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return Reading((float(raw),), (None,)) if math.isfinite(raw) else Reading(code="nonfinite")
    raw = str(raw)
    length = len(raw.encode("utf-16-le", "surrogatepass")) // 2     # as JavaScript and the form's maxlength count
    if length > MAX_CHARS:
        return Reading(code="too_long", detail={"n": length, "max": MAX_CHARS})
    cleaned = clean(raw)
    text = _strip_prefix(cleaned)
    if text == "":     # nothing typed, or nothing after 'x =' / '<script>'
        return Reading() if cleaned == "" else Reading(code="invalid")
    return _reading(text, units, many, count)


def message(reading: Reading, raw: Any, units: Sequence[str] = ()) -> str:
    """The Korean sentence that explains a refused reading."""
    shown = clean(raw) if reading.code != "too_long" else ""
    shown = shown if len(shown) <= 40 else shown[:37] + "…"
    detail = dict(reading.detail or {})
    allowed = UNIT_SOME.format(units=", ".join(units)) if units else UNIT_NONE
    return PARSE_MESSAGES[reading.code].format(raw=shown, allowed=allowed, **detail)


# ------------------------------------------------------------------ the same reading in JavaScript
_JS = r"""
var DLDNA_ANSWERS = (function (G) {
  function inRanges(r, ch) { var c = ch.charCodeAt(0); for (var k = 0; k < r.length; k++) if (c >= r[k][0] && c <= r[k][1]) return true; return false; }
  function isDigit(ch) { return ch >= "0" && ch <= "9"; }
  function Refused(code, detail) { this.code = code; this.detail = detail || {}; }
  function clean(raw) {
    var text = String(raw), out = [], run = "", i, ch;
    for (i = 0; i < text.length; i++) {
      ch = text[i];
      if (G.scripts.indexOf(ch) >= 0) { if (run) { out.push(run.normalize("NFKC")); run = ""; } out.push(ch); }
      else run += ch;
    }
    if (run) out.push(run.normalize("NFKC"));
    var joined = out.join(""), chars = [], space = false;
    for (i = 0; i < joined.length; i++) {
      ch = joined[i];
      if (inRanges(G.ignored, ch)) space = chars.length > 0;
      else { if (space) chars.push(" "); chars.push(ch); space = false; }
    }
    return chars.join("");
  }
  function number(text, i, commaInNumber) {
    var n = text.length, start = i, seps = [], groups = 0;
    while (i < n && isDigit(text[i])) i++;
    if (commaInNumber && i - start >= 1 && i - start <= 3 && text[start] !== "0") {
      while (i + 3 < n && text[i] === "," && isDigit(text[i + 1]) && isDigit(text[i + 2]) && isDigit(text[i + 3])
             && !(i + 4 < n && isDigit(text[i + 4]))) { i += 4; groups++; }
    }
    while (i + 1 < n && (text[i] === "." || (text[i] === "," && commaInNumber)) && isDigit(text[i + 1])) {
      seps.push(text[i]); i++;
      while (i < n && isDigit(text[i])) i++;
    }
    if (i < n && text[i] === "." && !seps.length && i > start) { seps.push("."); i++; }
    if (seps.length > 1 || (groups && seps.length && seps[0] === ","))
      throw new Refused(seps.indexOf(",") >= 0 || groups ? "comma" : "invalid");
    var body = text.slice(start, i);
    if (groups) body = body.split(",").join("");
    else if (seps.length && seps[0] === ",") body = body.replace(",", ".");
    var mantissa = body;
    if (i + 1 < n && (text[i] === "e" || text[i] === "E")) {
      var j = i + 1;
      if ((text[j] === "+" || text[j] === "-") && j + 1 < n && isDigit(text[j + 1])) j++;
      if (isDigit(text[j])) { while (j < n && isDigit(text[j])) j++; body = body + text.slice(i, j); i = j; }
    }
    var significant = mantissa.replace(".", "").replace(/^0+/, "");
    var digits = significant.length ? significant.length
      : Math.max(1, mantissa.indexOf(".") >= 0 ? mantissa.split(".")[1].length : 1);
    var value = Number(body);
    if (!isFinite(value)) throw new Refused("nonfinite");
    return [["num", value, digits], i];
  }
  function tokens(text, commaInNumber) {
    var out = [], i = 0, n = text.length, ch, r, j, k;
    while (i < n) {
      ch = text[i];
      if (ch === " ") { if (out.length && out[out.length - 1][0] !== "gap") out.push(["gap", null, null]); i++; }
      else if (isDigit(ch) || (ch === "." && i + 1 < n && isDigit(text[i + 1]))) { r = number(text, i, commaInNumber); out.push(r[0]); i = r[1]; }
      else if (ch === "⁺" || ch === "⁻" || ch in G.superDigits) {
        var sign = 1; j = i;
        if (text[j] === "⁺" || text[j] === "⁻") { sign = text[j] === "⁻" ? -1 : 1; j++; }
        k = j;
        while (k < n && text[k] in G.superDigits) k++;
        if (k === j) throw new Refused("invalid");
        var value = 0;
        for (var m = j; m < k; m++) value = 10 * value + G.superDigits[text[m]];
        out.push(["sup", sign * value, null]); i = k;
      }
      else if (ch === "*" && i + 1 < n && text[i + 1] === "*") { out.push(["op", "^", null]); i += 2; }
      else if (Object.prototype.hasOwnProperty.call(G.symbols, ch)) { out.push(["op", G.symbols[ch], null]); i++; }
      else if (inRanges(G.word, ch)) {
        j = i;
        while (j < n && inRanges(G.word, text[j])) j++;
        var word = text.slice(i, j);
        var low = word.toLowerCase();
        if (word === "x" || word === "X") out.push(["op", "*", null]);
        else if (low === "sqrt") out.push(["op", "√", null]);
        else if (Object.prototype.hasOwnProperty.call(G.constants, word) || low === "pi")
          out.push(["const", G.constants[Object.prototype.hasOwnProperty.call(G.constants, word) ? word : "pi"], null]);
        else if (G.functions.indexOf(low) >= 0) out.push(["func", low, null]);
        else if (low === "log") throw new Refused("log");
        else out.push(["word", word, null]);
        i = j;
      }
      else throw new Refused("invalid");
    }
    if (out.length && out[out.length - 1][0] === "gap") out.pop();
    return out;
  }
  function power(base, exponent) {
    if (!(isFinite(base) && isFinite(exponent))) return NaN;
    var v = Math.pow(base, exponent);
    if (isNaN(v) && !(base < 0)) return Infinity;
    return v;
  }
  function applyFunction(name, arg) {
    if (!isFinite(arg)) return NaN;
    if (name === "ln") return arg > 0 ? Math.log(arg) : NaN;
    return Math.exp(arg);
  }
  function Parser(t, many) { this.t = t; this.i = 0; this.depth = 0; this.literalTen = false; this.many = !!many; }
  Parser.prototype.peek = function (skipGap) {
    var j = this.i;
    if (skipGap !== false) while (j < this.t.length && this.t[j][0] === "gap") j++;
    return j < this.t.length ? this.t[j] : null;
  };
  Parser.prototype.take = function () {
    while (this.t[this.i][0] === "gap") this.i++;
    return this.t[this.i++];
  };
  Parser.prototype.isOp = function () {
    var t = this.peek();
    if (t === null || t[0] !== "op") return false;
    for (var k = 0; k < arguments.length; k++) if (t[1] === arguments[k]) return true;
    return false;
  };
  Parser.prototype.startsItem = function () {
    var t = this.peek();
    return t !== null && (t[0] === "num" || t[0] === "const" || t[0] === "func"
      || (t[0] === "op" && (t[1] === "(" || t[1] === "√" || t[1] === "-" || t[1] === "+")));
  };
  Parser.prototype.enter = function () { this.depth++; if (this.depth > G.maxDepth) throw new Refused("deep"); };
  Parser.prototype.item = function () {
    var r = this.expr(), percent = false;
    if (this.isOp("%")) { this.take(); percent = true; }
    return [r[0], r[1] ? r[1] : null, percent];
  };
  Parser.prototype.expr = function () {
    var r = this.term(), value = r[0], digits = r[1], g, op, right;
    while (true) {
      g = this.peek(false);
      if (!((g !== null && g[0] === "op" && (g[1] === "+" || g[1] === "-")) || (this.depth > 0 && this.isOp("+", "-"))))
        return [value, digits];
      op = this.take()[1];
      right = this.term();
      value = op === "+" ? value + right[0] : value - right[0]; digits = null;
    }
  };
  Parser.prototype.term = function () {
    var r = this.signed(), value = r[0], digits = r[1], right, t;
    while (true) {
      t = this.peek(this.depth > 0 || !this.many);
      if (this.isOp("*", "/")) {
        var op = this.take()[1];
        right = this.signed();
        if (op === "*") { value = value * right[0]; digits = (right[1] === 0 && digits) ? digits : null; }
        else { value = right[0] !== 0 ? value / right[0] : Infinity; digits = null; }
      } else if (t !== null && ((t[0] === "op" && (t[1] === "√" || t[1] === "(")) || t[0] === "const" || t[0] === "func")) {
        right = this.signed(); value = value * right[0]; digits = null;
      } else return [value, digits];
    }
  };
  Parser.prototype.signed = function () {
    var sign = 1;
    if (this.isOp("-", "+")) sign = this.take()[1] === "-" ? -1 : 1;
    var r = this.power();
    return [sign * r[0], (r[1] !== 0 || sign > 0) ? r[1] : null];
  };
  Parser.prototype.power = function () {
    var r = this.root(), base = r[0], digits = r[1], wasTen = this.literalTen, exponent = null, integer = false, e;
    if (this.isOp("^")) {
      this.take(); this.enter();
      e = this.signed(); this.depth--;
      exponent = e[0]; integer = e[1] !== null && exponent === Math.floor(exponent);
    } else if (this.peek() !== null && this.peek()[0] === "sup") { exponent = this.take()[1]; integer = true; }
    if (exponent === null) return [base, digits];
    var ten = digits === 2 && base === 10 && wasTen;
    return [power(base, exponent), (ten && integer) ? 0 : null];
  };
  Parser.prototype.root = function () {
    this.literalTen = false;
    var t = this.peek(), r;
    if (t !== null && t[0] === "op" && t[1] === "√") {
      this.take(); this.enter();
      r = this.root(); this.depth--; this.literalTen = false;
      return [r[0] >= 0 ? Math.sqrt(r[0]) : NaN, null];
    }
    if (t !== null && t[0] === "func") {
      this.take(); this.enter();
      r = this.signed(); this.depth--; this.literalTen = false;
      return [applyFunction(t[1], r[0]), null];
    }
    return this.atom();
  };
  Parser.prototype.atom = function () {
    var t = this.peek();
    if (t === null) throw new Refused("invalid");
    if (t[0] === "num") { this.take(); this.literalTen = t[1] === 10 && t[2] === 2; return [t[1], t[2]]; }
    if (t[0] === "const") { this.take(); return [t[1], null]; }
    if (t[0] === "op" && t[1] === "(") {
      this.take(); this.enter();
      var r = this.expr(); this.depth--;
      if (!this.isOp(")")) throw new Refused("invalid");
      this.take(); this.literalTen = false;
      return [r[0], null];
    }
    throw new Refused("invalid");
  };
  function isFiller(w) { return G.fillers.indexOf(w) >= 0; }
  function sameUnit(a, units) { for (var k = 0; k < units.length; k++) if (a.toLowerCase() === units[k].toLowerCase()) return true; return false; }
  function splitWord(word, units) {
    var vocab = [], seen = {}, all = units.concat(G.fillers, G.knownUnits), k;
    for (k = 0; k < all.length; k++) if (!seen[all[k]]) { seen[all[k]] = true; vocab.push(all[k]); }
    vocab.sort(function (a, b) { return b.length - a.length; });   // stable: ties keep their order, as in Python
    var low = word.toLowerCase(), pos = 0, unit = null;
    while (pos < low.length) {
      var hit = null;
      for (k = 0; k < vocab.length; k++) if (low.startsWith(vocab[k].toLowerCase(), pos)) { hit = vocab[k]; break; }
      if (hit === null) return [null, word];
      if (!isFiller(hit)) { if (!sameUnit(hit, units)) return [hit, null]; unit = unit || hit; }
      pos += hit.length;
    }
    return [unit, null];
  }
  function readTokens(tk, units, many) {
    var p = new Parser(tk, many), percentIsUnit = units.indexOf("%") >= 0, t;
    while ((t = p.peek()) !== null && ((t[0] === "op" && t[1] === "~") || (t[0] === "word" && isFiller(t[1])))) p.take();
    var bracket = many && p.isOp("(");
    if (bracket) p.take();
    var values = [], digits = [];
    while (true) {
      var r = p.item(), value = r[0];
      if (r[2] && !percentIsUnit) value = value / 100;
      values.push(value); digits.push(r[1]);
      if (!many) break;
      if (p.isOp(",", ";")) { p.take(); continue; }
      if (!p.startsItem()) break;
    }
    if (bracket) { if (!p.isOp(")")) throw new Refused("invalid"); p.take(); }
    while (p.peek() !== null) {
      t = p.take();
      if (t[0] === "word") {
        var s = splitWord(t[1], units);
        if (s[1] !== null) throw new Refused("word", {word: s[1]});
        if (s[0] !== null && !sameUnit(s[0], units)) throw new Refused("unit", {word: s[0]});
      } else if (t[0] === "op" && t[1] === "~") continue;
      else if (!many && t[0] === "op" && (t[1] === "-" || t[1] === "+")) throw new Refused("arith");
      else if (!many && (t[0] === "num" || t[0] === "const" || t[0] === "func" || (t[0] === "op" && (t[1] === "(" || t[1] === "√"))))
        throw new Refused("several");
      else throw new Refused("invalid");
    }
    for (var k = 0; k < values.length; k++) if (!isFinite(values[k])) throw new Refused("nonfinite");
    return [values, digits];
  }
  function stripPrefix(text) {
    var cut = -1;
    for (var k = 0; k < G.prefixEnds.length; k++) cut = Math.max(cut, text.lastIndexOf(G.prefixEnds[k]));
    return cut >= 0 ? text.slice(cut + 1).trim() : text;
  }
  function reading(text, units, many, count) {
    function attempt(commaInNumber) {
      try { var r = readTokens(tokens(text, commaInNumber), units, many); return {values: r[0], digits: r[1], code: null, detail: null}; }
      catch (e) { if (e instanceof Refused) return {values: [], digits: [], code: e.code, detail: e.detail}; throw e; }
    }
    var first = attempt(true);
    if (many && count !== null && text.indexOf(",") >= 0 && (first.code !== null || first.values.length !== count)) {
      var second = attempt(false);
      if (second.code === null && second.values.length === count) return second;
    }
    return first;
  }
  function read(raw, units, many, count) {
    units = units || []; count = count === undefined ? null : count;
    if (raw === null || raw === undefined) return {values: [], digits: [], code: null, detail: null};
    raw = String(raw);
    if (raw.length > G.maxChars) return {values: [], digits: [], code: "too_long", detail: {n: raw.length, max: G.maxChars}};
    var cleaned = clean(raw), text = stripPrefix(cleaned);
    if (text === "") return {values: [], digits: [], code: cleaned === "" ? null : "invalid", detail: null};
    return reading(text, units, many, count);
  }
  function fmt(t, d) { return t.replace(/\{(\w+)\}/g, function (m, k) { return d[k]; }); }
  function message(r, raw, units) {
    var shown = r.code !== "too_long" ? clean(raw) : "";
    if (shown.length > 40) shown = shown.slice(0, 37) + "…";
    var d = {raw: shown, allowed: units.length ? fmt(G.unitSome, {units: units.join(", ")}) : G.unitNone};
    for (var k in (r.detail || {})) d[k] = r.detail[k];
    return fmt(G.messages[r.code], d);
  }
  return {clean: clean, read: read, message: message, fmt: fmt};
})(%(grammar)s);
"""


def _grammar() -> dict[str, Any]:
    """The vocabulary both readers share (the JavaScript gets it as JSON)."""
    return {"ignored": _IGNORED, "scripts": _SCRIPTS, "symbols": _SYMBOLS, "superDigits": _SUPER_DIGITS,
            "word": _WORD_RANGES, "fillers": list(FILLERS), "knownUnits": list(KNOWN_UNITS),
            "constants": CONSTANTS, "functions": list(FUNCTIONS),
            "prefixEnds": _PREFIX_ENDS, "maxChars": MAX_CHARS, "maxDepth": MAX_DEPTH, "messages": PARSE_MESSAGES,
            "unitNone": UNIT_NONE, "unitSome": UNIT_SOME}


def answer_js() -> str:
    """The JavaScript reader (``DLDNA_ANSWERS.read(raw, units, many, count)`` and ``.message``),
    with this module's vocabulary filled in; every checker form embeds it."""
    return _JS.replace("%(grammar)s", json.dumps(_grammar(), ensure_ascii=False))
