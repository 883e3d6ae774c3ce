"""A learning-rate search whose pick is never at the edge of what was tried (5.2's sweep).

Each optimizer starts from a few learning rates on a log grid around its reference learning rate
(``lr = reference · 10ˣ`` for offsets ``x`` in decades). After every round of runs the search adds
points until the pick — the learning rate with the lowest final training loss — is *interior*:

- a pick at the lowest or highest point tried gets a new point one coarse step (half a decade)
  beyond it;
- a pick whose neighbour diverged gets a point halfway between them (in log), down to an eighth
  of a decade, so the pick is not just "the last stable point" of a coarse grid.

A search gives up at ``limit`` decades from the reference; :meth:`LrSearch.status` then says
``"edge"``, and ``"cliff"`` when the best point still sits next to a diverged one at the finest
spacing. Runs are recorded by their final training loss, or ``None`` for a diverged run.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

__all__ = ["LrSearch", "first_offsets", "next_offsets", "status", "COARSE", "FINEST", "LIMIT"]

COARSE = 0.5     # decades between the first points, and the step beyond an edge
FINEST = 0.125   # the finest spacing next to a diverged point (a factor 10^0.125 ≈ 1.33)
LIMIT = 3.0      # never further than this many decades from the reference


def first_offsets(points: int) -> list[float]:
    """``points`` offsets (decades) centred on 0, ``COARSE`` apart: 3 → [−0.5, 0, 0.5]."""
    if not (isinstance(points, int) and not isinstance(points, bool) and points >= 1):
        raise ValueError(f"points must be a positive int, got {points!r}")
    start = -COARSE * (points - 1) / 2
    return [round(start + COARSE * i, 6) for i in range(points)]


def next_offsets(losses: Mapping[float, float | None], *, limit: float = LIMIT) -> list[float]:
    """Offsets to try next so that the pick becomes interior; ``[]`` when it is (or cannot be).

    ``losses`` maps every offset tried to its final training loss, ``None`` where the run diverged.
    """
    if not losses:
        raise ValueError("no learning rate has been tried yet: start with first_offsets(...)")
    xs = sorted(losses)
    finite = [x for x in xs if losses[x] is not None and math.isfinite(losses[x])]
    if not finite:                       # everything diverged: go down
        lower = round(xs[0] - COARSE, 6)
        return [lower] if lower >= -limit else []
    best = min(finite, key=lambda x: losses[x])
    i = xs.index(best)
    new = []
    for side, j in ((-1, i - 1), (1, i + 1)):
        if not 0 <= j < len(xs):                         # the pick is the last point on this side
            candidate = best + side * COARSE
        elif losses[xs[j]] is None and abs(xs[j] - best) > FINEST * 1.001:
            candidate = (best + xs[j]) / 2                # a diverged neighbour: look in between
        else:
            continue
        candidate = round(candidate, 6)
        if abs(candidate) <= limit + 1e-9 and candidate not in losses:
            new.append(candidate)
    return new


def status(losses: Mapping[float, float | None], *, limit: float = LIMIT) -> str:
    """``"interior"``: the pick has a tried, finite-or-farther point on both sides and no diverged
    neighbour closer than needed; ``"edge"``: it is the lowest/highest point tried (the limit was
    reached); ``"cliff"``: a neighbour diverged at the finest spacing."""
    xs = sorted(losses)
    finite = [x for x in xs if losses[x] is not None and math.isfinite(losses[x])]
    if not finite:
        return "edge"
    best = min(finite, key=lambda x: losses[x])
    i = xs.index(best)
    if i == 0 or i == len(xs) - 1:
        return "edge"
    if losses[xs[i - 1]] is None or losses[xs[i + 1]] is None:
        return "cliff"
    return "interior"


@dataclass
class LrSearch:
    """The search for several optimizers at once, run round by round (so that every round's runs
    can go to :func:`dldna_helpers.parallel.map_runs` together)::

        search = LrSearch({"Adam": 1e-3, "SGD": 0.05}, points=3)
        while tasks := search.pending():
            search.record(tasks, map_runs(run, tasks))     # run(name, offset) -> History

    ``record`` keeps each run (a :class:`~dldna_helpers.training.History`) by ``(name, offset)``.
    """

    references: Mapping[str, float]
    points: int = 3
    limit: float = LIMIT
    runs: dict[tuple[str, float], Any] = field(default_factory=dict)
    rounds: int = 0

    def __post_init__(self) -> None:
        for name, lr in self.references.items():
            if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
                raise ValueError(f"reference learning rate of {name!r} must be a positive number, got {lr!r}")
        first_offsets(self.points)

    def losses(self, name: str) -> dict[float, float | None]:
        """Offset → final training loss (``None``: diverged) of every run of ``name`` so far."""
        return {x: (None if h.diverged else float(h.train_loss[-1]))
                for (n, x), h in self.runs.items() if n == name}

    def pending(self) -> list[tuple[str, float]]:
        """The ``(name, offset)`` runs of the next round; ``[]`` when every search is done."""
        tasks = []
        for name in self.references:
            losses = self.losses(name)
            offsets = first_offsets(self.points) if not losses else next_offsets(losses, limit=self.limit)
            tasks += [(name, x) for x in offsets if (name, x) not in self.runs]
        return tasks

    def record(self, tasks: Sequence[tuple[str, float]], histories: Iterable[Any]) -> None:
        histories = list(histories)
        if len(histories) != len(tasks):
            raise ValueError(f"{len(tasks)} tasks but {len(histories)} results")
        for task, history in zip(tasks, histories):
            self.runs[tuple(task)] = history
        self.rounds += 1

    def lr(self, name: str, offset: float) -> float:
        """The learning rate at ``offset`` decades from ``name``'s reference."""
        return float(self.references[name] * 10.0 ** offset)

    def pick(self, name: str) -> float:
        """The offset with the lowest final training loss (the pick)."""
        losses = {x: v for x, v in self.losses(name).items() if v is not None}
        if not losses:
            raise ValueError(f"every run of {name!r} diverged: there is no pick")
        return min(losses, key=losses.get)

    def status(self, name: str) -> str:
        """:func:`status` of ``name``'s search."""
        return status(self.losses(name), limit=self.limit)
