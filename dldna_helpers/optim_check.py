"""Check an optimizer a reader writes against ``torch.optim``: the same start, the same gradients,
every step compared.

Exercises 1 and 4 ask the reader to write ``step()`` of momentum SGD and of Adam;
:func:`compare_with_torch` runs the reader's class and the reference side by side on a small
least-squares problem (two parameter tensors, float64) and reports the largest difference of the
parameters after each step. An empty ``step()`` (``NotImplementedError``) is reported as not yet
written instead of failing, so the exercise cell runs before the reader has filled it in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import torch

from .report import josa, sci

__all__ = ["StepComparison", "compare_with_torch"]

TOLERANCE = 1e-10   # float64: a correct step agrees with torch.optim to rounding error


@dataclass
class StepComparison:
    """The outcome: ``written`` (step() ran), the largest parameter difference after each step, and
    ``matches`` (every difference ≤ :data:`TOLERANCE`)."""

    name: str
    reference: str
    written: bool
    differences: list[float] = field(default_factory=list)
    first_bad_step: int | None = None

    @property
    def matches(self) -> bool:
        return self.written and self.first_bad_step is None and bool(self.differences)

    @property
    def largest(self) -> float:
        return max(self.differences) if self.differences else float("nan")

    def message(self) -> str:
        """One Korean line for the reader."""
        if not self.written:
            return (f"{self.name}의 step()이 아직 비어 있습니다(NotImplementedError). 식을 옮겨 채운 뒤 "
                    "이 셀을 다시 실행하세요.")
        ref = self.reference + josa(self.reference, "과/와")
        if self.matches:
            return (f"{self.name}: {len(self.differences)}스텝 모두 {ref} 일치합니다 "
                    f"(파라미터의 최대 차이 {sci(self.largest, 1)}).")
        return (f"{self.name}: {self.first_bad_step}번째 스텝에서 {ref} 달라졌습니다 "
                f"(최대 차이 {sci(self.differences[self.first_bad_step - 1], 2)}). 그 스텝의 식과 상태(state) "
                "초기화를 확인하세요.")

    def __repr__(self) -> str:
        return self.message()


def _problem(seed: int) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """Inputs, targets and starting parameters (a 3×4 weight and a bias) of a small least-squares fit."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(32, 4, generator=gen, dtype=torch.float64)
    y = torch.randn(32, 3, generator=gen, dtype=torch.float64)
    start = [torch.randn(3, 4, generator=gen, dtype=torch.float64), torch.randn(3, generator=gen, dtype=torch.float64)]
    return x, y, start


def _run(make: Callable[[list[torch.Tensor]], torch.optim.Optimizer], steps: int, seed: int):
    x, y, start = _problem(seed)
    params = [p.clone().requires_grad_(True) for p in start]
    optimizer = make(params)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((x @ params[0].T + params[1] - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        yield [p.detach().clone() for p in params]


def compare_with_torch(mine: type, reference: type, hyperparameters: Mapping[str, Any], *,
                       steps: int = 25, seed: int = 0) -> StepComparison:
    """Run ``mine(params, **hyperparameters)`` and ``reference(params, **hyperparameters)`` from the
    same start for ``steps`` steps and compare the parameters after each step."""
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    result = StepComparison(getattr(mine, "__name__", str(mine)), f"torch.optim.{reference.__name__}", True)
    ours = _run(lambda ps: mine(ps, **hyperparameters), steps, seed)
    theirs = _run(lambda ps: reference(ps, **hyperparameters), steps, seed)
    for step in range(1, steps + 1):
        try:
            a = next(ours)
        except NotImplementedError:
            result.written = False
            return result
        b = next(theirs)
        diff = max(float((p - q).abs().max()) for p, q in zip(a, b))
        result.differences.append(diff)
        if not diff <= TOLERANCE and result.first_bad_step is None:
            result.first_bad_step = step
    return result
