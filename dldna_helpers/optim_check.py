"""Check an optimizer a reader writes against ``torch.optim``: the same start, the same gradients,
every step compared.

Exercises 1 and 4 ask the reader to write ``step()`` of momentum SGD and of Adam;
:func:`compare_with_torch` runs the reader's class and the reference side by side on a small
least-squares problem (two parameter tensors, float64) and reports the largest difference of the
parameters after each step. It does so twice: with ``zero_grad()`` (PyTorch's default sets the
gradients to ``None``, so every step gets a fresh gradient tensor) and with
``zero_grad(set_to_none=False)`` (the same gradient tensor is zeroed in place and refilled, as in
gradient accumulation). A state that keeps ``p.grad`` itself instead of a copy passes the first run
and fails the second: the kept tensor is zeroed and overwritten under it. An empty ``step()``
(``NotImplementedError``) is reported as not yet written instead of failing, so the exercise cell
runs before the reader has filled it in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import torch

from .report import josa, sci

__all__ = ["StepComparison", "compare_with_torch", "MODES"]

TOLERANCE = 1e-10   # float64: a correct step agrees with torch.optim to rounding error
# How the gradients are cleared between steps, and how the message names it.
MODES = {"none": "zero_grad()", "zeros": "zero_grad(set_to_none=False)"}


def _step_name(step: int) -> str:
    return "첫 스텝" if step == 1 else f"{step}번째 스텝"


@dataclass
class StepComparison:
    """The outcome: ``written`` (step() ran), per way of clearing gradients (:data:`MODES`) the
    largest parameter difference after each step, the first step that differs in each, and
    ``matches`` (every difference ≤ :data:`TOLERANCE` in both)."""

    name: str
    reference: str
    written: bool
    differences: dict[str, list[float]] = field(default_factory=dict)
    first_bad: dict[str, int] = field(default_factory=dict)

    @property
    def matches(self) -> bool:
        return (self.written and not self.first_bad and set(self.differences) == set(MODES)
                and all(self.differences.values()))

    @property
    def largest(self) -> float:
        found = [d for diffs in self.differences.values() for d in diffs]
        return max(found) if found else float("nan")

    def message(self) -> str:
        """One Korean line for the reader."""
        if not self.written:
            return (f"{self.name}의 step()이 아직 비어 있습니다(NotImplementedError). 식을 옮겨 채운 뒤 "
                    "이 셀을 다시 실행하세요.")
        ref = self.reference + josa(self.reference, "과/와")
        steps = len(self.differences.get("none", []))
        if self.matches:
            return (f"{self.name}: 그래디언트를 지우는 두 방식({MODES['none']}, {MODES['zeros']}) 모두에서 "
                    f"{steps}스텝 내내 {ref} 일치합니다 (파라미터의 최대 차이 {sci(self.largest, 1)}).")
        if "none" in self.first_bad:
            step = self.first_bad["none"]
            return (f"{self.name}: {_step_name(step)}에서 {ref} 달라졌습니다 "
                    f"(최대 차이 {sci(self.differences['none'][step - 1], 2)}). 그 스텝의 식과 상태(state) "
                    "초기화를 확인하세요.")
        step = self.first_bad["zeros"]
        return (f"{self.name}: {MODES['none']}로 그래디언트를 지울 때는 {steps}스텝 모두 {ref} 일치하지만, "
                f"그래디언트 텐서를 0으로 채워 다시 쓰는 {MODES['zeros']}에서는 {_step_name(step)}에서 달라졌습니다 "
                f"(최대 차이 {sci(self.differences['zeros'][step - 1], 2)}). 상태에 p.grad를 복사하지 않고 그대로 "
                "넣었는지 확인하세요(p.grad.clone()). 그 텐서가 다음 스텝에 0으로 지워지고 새 그래디언트로 채워집니다.")

    def __repr__(self) -> str:
        return self.message()


def _problem(seed: int) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """Inputs, targets and starting parameters (a 3×4 weight and a bias) of a small least-squares fit."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(32, 4, generator=gen, dtype=torch.float64)
    y = torch.randn(32, 3, generator=gen, dtype=torch.float64)
    start = [torch.randn(3, 4, generator=gen, dtype=torch.float64), torch.randn(3, generator=gen, dtype=torch.float64)]
    return x, y, start


def _run(make: Callable[[list[torch.Tensor]], torch.optim.Optimizer], steps: int, seed: int, mode: str):
    x, y, start = _problem(seed)
    params = [p.clone().requires_grad_(True) for p in start]
    optimizer = make(params)
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=mode == "none")
        loss = ((x @ params[0].T + params[1] - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        yield [p.detach().clone() for p in params]


def compare_with_torch(mine: type, reference: type, hyperparameters: Mapping[str, Any], *,
                       steps: int = 25, seed: int = 0) -> StepComparison:
    """Run ``mine(params, **hyperparameters)`` and ``reference(params, **hyperparameters)`` from the
    same start for ``steps`` steps and compare the parameters after each step, once for each way of
    clearing the gradients in :data:`MODES`."""
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    result = StepComparison(getattr(mine, "__name__", str(mine)), f"torch.optim.{reference.__name__}", True)
    for mode in MODES:
        ours = _run(lambda ps: mine(ps, **hyperparameters), steps, seed, mode)
        theirs = _run(lambda ps: reference(ps, **hyperparameters), steps, seed, mode)
        diffs = result.differences.setdefault(mode, [])
        for step in range(1, steps + 1):
            try:
                a = next(ours)
            except NotImplementedError:
                result.written = False
                return result
            b = next(theirs)
            diff = max(float((p - q).abs().max()) for p, q in zip(a, b))
            diffs.append(diff)
            if not diff <= TOLERANCE and mode not in result.first_bad:
                result.first_bad[mode] = step
    return result
