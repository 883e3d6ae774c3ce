"""Learning rates for optimizer paths on 2-D surfaces, chosen from a fixed grid that grows until
the choice is interior.

A comparison of optimizers is only as fair as their learning rates. Every optimizer here gets
the same grid of candidates, half-decades ``1, 3, 10, 30 … × 10ᵏ`` (:func:`half_decade`), fixed
in advance and not scaled to the problem (a grid scaled so that one method's first step lands
on the target decides the race before it starts). :func:`tune_learning_rate` runs the
candidates and, while the best one is the smallest or the largest tried, adds the next grid
point beyond it: the pick is then *interior*, with a worse candidate on each side.

"Best" is the fewest steps to reach the target and stay there
(:func:`~dldna_helpers.surfaces.steps_to_tolerance`), ties
broken by the final loss. With several start points the steps are their median, so one lucky
start does not decide.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from .surfaces import Path, Surface, optimizer_paths, paths_from_state, paths_to_state, steps_to_tolerance

__all__ = ["half_decade", "grid_index", "median_steps", "Sweep", "tune_learning_rate",
           "tune_learning_rates", "sweeps_to_state", "sweeps_from_state"]

MakeOptimizer = Callable[[list[torch.Tensor], float], torch.optim.Optimizer]


def half_decade(k: int) -> float:
    """The k-th point of the learning-rate grid: 1·10ᵐ for even k = 2m, 3·10ᵐ for odd k = 2m + 1."""
    if not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int, got {k!r}")
    return (1.0 if k % 2 == 0 else 3.0) * 10.0 ** (int(k) // 2)


def grid_index(lr: float) -> int:
    """The k with ``half_decade(k) == lr``; a learning rate off the grid is refused."""
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    m = math.floor(math.log10(lr) + 1e-9)
    for k in (2 * m, 2 * m + 1):
        if math.isclose(half_decade(k), lr, rel_tol=1e-9):
            return k
    raise ValueError(f"{lr!r} is not on the half-decade grid (1, 3, 10, 30 … × 10ᵏ)")


def median_steps(paths: Sequence[Path], target: float, tol: float, settle: int = 0) -> float:
    """Median over ``paths`` (one per start point) of the steps to reach ``target`` within ``tol``
    and stay (at least ``settle`` steps: :func:`~dldna_helpers.surfaces.steps_to_tolerance`); a path
    that never does counts as ∞, so the median is ∞ when at least half never reach."""
    if len(paths) == 0:
        raise ValueError("paths is empty: give one path per start point")
    values = sorted(math.inf if s is None else s
                    for s in (steps_to_tolerance(p, target, tol, settle) for p in paths))
    return float(np.median(values))


@dataclass
class Sweep:
    """Every candidate learning rate tried for one optimizer, its paths (one per start) and the pick."""

    name: str
    runs: dict[float, list[Path]]      # learning rate → one path per start point, rates ascending
    target: float
    tol: float
    settle: int = 0                    # steps a path must stay inside the band to count as reached

    def steps(self, lr: float) -> float:
        """Median steps to reach over the start points (∞ when at least half never reach)."""
        return median_steps(self.runs[lr], self.target, self.tol, self.settle)

    def diverged(self, lr: float) -> bool:
        """True when a path of this learning rate left the box or produced a non-finite loss."""
        return any(p.diverged_step is not None for p in self.runs[lr])

    def score(self, lr: float) -> tuple[float, float]:
        """(median steps to reach, median final loss): smaller is better; diverged paths score ∞."""
        finals = [math.inf if p.diverged_step is not None else p.final_loss for p in self.runs[lr]]
        return self.steps(lr), float(np.median(finals))

    @property
    def best(self) -> float:
        return min(self.runs, key=self.score)

    @property
    def at_edge(self) -> bool:
        """True when the pick is the smallest or the largest learning rate tried."""
        rates = sorted(self.runs)
        return not rates[0] < self.best < rates[-1]

    def neighbours(self) -> tuple[float | None, float | None]:
        """The tried learning rates just below and just above the pick (None at an edge)."""
        rates = sorted(self.runs)
        i = rates.index(self.best)
        return (rates[i - 1] if i > 0 else None), (rates[i + 1] if i + 1 < len(rates) else None)

    @property
    def interior(self) -> bool:
        """True when the pick reaches the target and a smaller and a larger candidate, neither of
        them diverged, were tried and scored worse (a pick next to a diverged rate only says where
        the stability edge is)."""
        if self.at_edge or not math.isfinite(self.steps(self.best)):
            return False
        return not any(self.diverged(lr) for lr in self.neighbours())

    @property
    def below_divergence(self) -> bool:
        """True when the pick reaches, the rate below it was tried and did not diverge, and the rate
        above it diverged although finer points were tried in between: the best rate is the largest
        stable one, located to within the ratio of the two (:meth:`edge_ratio`)."""
        low, high = self.neighbours()
        return (low is not None and high is not None and math.isfinite(self.steps(self.best))
                and not self.diverged(low) and self.diverged(high))

    def edge_ratio(self) -> float:
        """The ratio of the rate just above the pick to the pick (∞ at the top edge)."""
        high = self.neighbours()[1]
        return math.inf if high is None else high / self.best

    @property
    def path(self) -> Path:
        """The picked learning rate's path from the first start point, labelled with the name."""
        first = self.runs[self.best][0]
        return Path(self.name, first.xy, first.loss, first.diverged_step)

    def reached_count(self) -> int:
        """How many of the tried learning rates reach the target (a measure of tolerance)."""
        return sum(math.isfinite(self.steps(lr)) for lr in self.runs)


def _starts(start: Sequence[float] | Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    arr = np.asarray(start, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0 or not np.isfinite(arr).all():
        raise ValueError(f"start must be a point (x, y) or a list of such points, got {start!r}")
    return [(float(x), float(y)) for x, y in arr]


def tune_learning_rate(
    fn: Surface, start: Sequence[float] | Sequence[Sequence[float]], make: MakeOptimizer, steps: int, *,
    target: float, tol: float, first: Sequence[int] = (-3, -2, -1), name: str = "", max_candidates: int = 14,
    settle: int = 0, max_refine: int = 3,
) -> Sweep:
    """Run ``make(params, lr)`` for the half-decade grid points ``first`` (indices k of
    :func:`half_decade`; the default is 0.03, 0.1, 0.3), then extend the grid by one point beyond the
    pick while the pick is the smallest or largest tried (at most ``max_candidates`` in all). When a
    neighbour of the pick diverged, the geometric midpoint between them is tried too (at most
    ``max_refine`` times), so the pick is not decided by a point that only marks the stability edge.
    ``settle``: see :func:`median_steps`."""
    if not (isinstance(max_candidates, int) and max_candidates >= 3):
        raise ValueError(f"max_candidates must be an int >= 3, got {max_candidates!r}")
    ks = sorted({int(k) for k in first})
    if len(ks) < 2:
        raise ValueError(f"first must hold at least two grid indices, got {first!r}")
    points = _starts(start)
    sweep = Sweep(name, {}, float(target), float(tol), int(settle))

    def run(lr: float) -> None:
        sweep.runs[lr] = [optimizer_paths(fn, p, {name: lambda ps, lr=lr: make(ps, lr)}, steps)[name]
                          for p in points]
        sweep.runs = dict(sorted(sweep.runs.items()))

    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    while True:
        for k in ks:
            if half_decade(k) not in sweep.runs:
                run(half_decade(k))
        if not sweep.at_edge or len(sweep.runs) >= max_candidates:
            break
        k_best = grid_index(sweep.best)
        ks = [k_best - 1] if sweep.best == min(sweep.runs) else [k_best + 1]
    for _ in range(max_refine):
        if sweep.at_edge or not math.isfinite(sweep.steps(sweep.best)):
            break
        bad = [lr for lr in sweep.neighbours() if sweep.diverged(lr)]
        if not bad:
            break
        run(math.sqrt(sweep.best * bad[0]))
    return sweep


def tune_learning_rates(
    fn: Surface, start: Sequence[float] | Sequence[Sequence[float]], optimizers: Mapping[str, MakeOptimizer],
    steps: int, *, target: float, tol: float, first: Sequence[int] = (-3, -2, -1), settle: int = 0,
) -> dict[str, Sweep]:
    """:func:`tune_learning_rate` for every optimizer (name → ``make(params, lr)``), the optimizers
    run in parallel processes (:func:`dldna_helpers.parallel.map_runs`)."""
    from .parallel import map_runs

    if not optimizers:
        raise ValueError("optimizers is empty: map a name to `lambda params, lr: Optimizer`")
    names = list(optimizers)
    sweeps = map_runs(lambda n: tune_learning_rate(fn, start, optimizers[n], steps, target=target, tol=tol,
                                                   first=first, name=n, settle=settle), names)
    return dict(zip(names, sweeps))


def sweeps_to_state(sweeps: Mapping[str, Sweep]) -> dict:
    """Sweeps as tensors, numbers and strings, for :func:`dldna_helpers.result_cache.cached`."""
    return {name: {"target": s.target, "tol": s.tol, "settle": s.settle,
                   "runs": {repr(lr): paths_to_state(dict(enumerate(paths))) for lr, paths in s.runs.items()}}
            for name, s in sweeps.items()}


def sweeps_from_state(state: Mapping[str, Mapping]) -> dict[str, Sweep]:
    """The inverse of :func:`sweeps_to_state`."""
    try:
        return {name: Sweep(name, {float(lr): list(paths_from_state(paths).values())
                                   for lr, paths in entry["runs"].items()}, float(entry["target"]), float(entry["tol"]),
                      int(entry.get("settle", 0)))
                for name, entry in state.items()}
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        raise ValueError(f"not a saved set of sweeps (expected target, tol and runs per optimizer): {exc}") from exc
