"""Exercise 1: momentum SGD by hand on L(w) = w² — the problem, its exact trajectory, and the
checker fields with the value each common slip produces at each step.

The fields are ordinary :mod:`dldna_helpers.checkers` fields in one chain (v₁, w₁, v₂, …: each
value is computed from the ones before it), so exercise 1 is judged by the same engine, in Python
and in the page's JavaScript, as every other exercise. A slip's value at step t is computed from
the *right* state of step t − 1: only the first wrong field of the chain gets its own diagnosis,
and every field before it is right.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from .checkers import checker, number
from .report import josa
from .widgets import LiveOrStatic

__all__ = ["MomentumExercise", "SLIPS", "momentum_fields", "momentum_checker"]

_SUB = "₀₁₂₃₄₅₆₇₈₉"


def _sub(n: int) -> str:
    """Subscript digits: "w₁" reads better than "w1"."""
    return "".join(_SUB[int(c)] for c in str(n))


@dataclass(frozen=True)
class MomentumExercise:
    """Momentum SGD by hand on L(w) = w²: v_t = μ v_{t-1} + g_t, w_t = w_{t-1} − η v_t, v_0 = 0.

    The defaults keep η ≠ 1 − μ: with η = 1 − μ, the dampening slip μv + (1 − μ)g and the slip that
    puts η into the velocity, μv + ηg, give the same number at every step and cannot be told apart."""

    w0: float = 2.0
    lr: float = 0.1
    momentum: float = 0.8
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


# Each slip as "what the reader computed instead" from the right previous state:
# (name, field, formula(w_prev, v_prev, v_now, lr, mu, g), hint)
SLIPS: list[tuple[str, str, Callable[..., float], str]] = [
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
     "부호를 확인하세요: 손실을 줄이려면 속도의 반대 방향으로 움직입니다(w − ηv)."),
    ("w_before_v", "w", lambda w, v, vn, lr, mu, g: w - lr * v,
     "w를 v보다 먼저 갱신했습니다(이전 스텝의 속도를 썼습니다). 먼저 v를 구하고 그 v로 w를 갱신하세요."),
    ("no_momentum_w", "w", lambda w, v, vn, lr, mu, g: w - lr * g,
     "속도 대신 그래디언트로 갱신했습니다(모멘텀 없는 경사 하강법). w = w − ηv입니다."),
    ("nesterov", "w", lambda w, v, vn, lr, mu, g: w - lr * (g + mu * vn),
     "네스테로프(Nesterov) 형식 w − η(g + μv)로 갱신했습니다. 이 문제는 일반 모멘텀 w − ηv입니다."),
    ("no_lr", "w", lambda w, v, vn, lr, mu, g: w - vn,
     "학습률 η를 곱하지 않았습니다: w = w − ηv입니다."),
]


def slip_values(ex: MomentumExercise) -> dict[str, list[tuple[str, float]]]:
    """Field key → ``[(slip name, value)]`` computed from the right previous state."""
    ws, vs = ex.trajectory()
    out: dict[str, list[tuple[str, float]]] = {}
    for t in range(1, ex.steps + 1):
        w, v, vn = ws[t - 1], vs[t - 1], vs[t]
        g = ex.grad(w)
        for name, kind, formula, _ in SLIPS:
            out.setdefault(f"{kind}{t}", []).append((name, formula(w, v, vn, ex.lr, ex.momentum, g)))
    return out


def momentum_fields(ex: MomentumExercise = MomentumExercise(), decimals: int = 3) -> list[dict[str, Any]]:
    """The checker fields v₁, w₁, …: right values from :meth:`MomentumExercise.trajectory`, judged to
    ``decimals`` decimals, each with the slips of its kind, all in one chain."""
    ws, vs = ex.trajectory()
    hints = {name: hint for name, _, _, hint in SLIPS}
    slips = slip_values(ex)
    fields = []
    for t in range(1, ex.steps + 1):
        p, s = _sub(t - 1), _sub(t)
        generic = {
            "v": f"v{s} = μ·v{p} + g{s}이고 g{s} = 2·w{p}입니다. 앞 스텝의 값을 대입해 다시 계산해 보세요.",
            "w": f"w{s} = w{p} − η·v{s}입니다. 방금 구한 v{s}{josa(f'v{t}', '을/를')} 쓰세요.",
        }
        for kind, value, what in (("v", vs[t], "속도"), ("w", ws[t], "가중치")):
            key = f"{kind}{t}"
            fields.append(number(key, f"{kind}{s}", value, decimals=decimals, chain="hand",
                                 prompt=f"스텝 {t}의 {what} {kind}{s}",
                                 slips=[(x, hints[name]) for name, x in slips[key]], hint=generic[kind]))
    return fields


def momentum_checker(ex: MomentumExercise = MomentumExercise(), live: bool | None = None) -> LiveOrStatic:
    """Exercise 1's checker (the general engine on :func:`momentum_fields`)."""
    return checker(momentum_fields(ex), title="문제 1 확인", live=live)
