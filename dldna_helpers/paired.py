"""Paired comparisons of *groups* of runs, and sentences that survive a run with one seed.

A page that compares methods trains each of them with the same seeds and scores them on the same
test images. :func:`report.run_difference` compares two methods; :func:`group_difference`
compares the mean of several methods with the mean of several others (e.g. the two
initializations that keep the signal against the two that shrink it: a factor of a 2×2 design),
seed by seed and test image by test image, with the chapter's rule (:mod:`.stats`); it also
compares one number per run (the mean training loss: a paired t-test on the seeds). A seed where
any run of either group diverged is left out of both.

:func:`compare_runs` words the result with :func:`report.compare`, or, when fewer than two seeds
are left, says that this run cannot compare them. A reader may run a page with one seed to go
faster; the page then still runs, and its sentences interpret nothing: ``GroupDifference.sign``
is 0 (undecided) without a difference, so code that reads a sign decides nothing either.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .report import compare, josa, with_josa
from .stats import LEVEL, Difference, paired_difference

__all__ = ["MEASURES", "GroupDifference", "per_seed_values", "group_difference", "compare_runs"]

# what a run contributes: its per-test-sample errors (in %, so differences are in %p), its
# per-test-sample losses, or one number per run (the mean mini-batch loss over training)
MEASURES = ("error", "loss", "mean_loss")


@dataclass(frozen=True)
class GroupDifference:
    """The difference (None when fewer than two seeds are left) and the seed positions kept."""

    diff: Difference | None
    kept: list[int]

    @property
    def sign(self) -> int:
        """:attr:`stats.Difference.sign`, and 0 (nothing decided) when there is no difference."""
        return self.diff.sign if self.diff is not None else 0


def _finished(run: Any) -> bool:
    return run is not None and not run.diverged


def per_seed_values(run: Any, measure: str) -> np.ndarray | float:
    """What one run contributes: per-test-sample errors in percent, per-sample losses, or its mean
    training loss (a scalar)."""
    if measure == "error":
        return 100.0 * run.test_errors()
    if measure == "loss":
        return run.test_losses()
    if measure == "mean_loss":
        return float(np.mean(run.step_loss))
    raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")


def group_difference(a: Sequence[Sequence[Any]], b: Sequence[Sequence[Any]], measure: str = "error", *,
                     level: float = LEVEL) -> GroupDifference:
    """mean(A) − mean(B), paired by seed (and by test sample for ``error``/``loss``).

    ``a`` and ``b`` are lists over methods of lists over seeds (the same seed order in every
    list; an entry is a :class:`training.History`, or None for a run that does not exist). The
    mean of a group is taken over its methods within each seed and test sample, so a group of one
    method is :func:`report.run_difference`. Errors are in percentage points."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    if not a or not b:
        raise ValueError("each group needs at least one method")
    lengths = {len(runs) for runs in (*a, *b)}
    if len(lengths) != 1:
        raise ValueError(f"every method must list the same seeds, got lists of lengths {sorted(lengths)}")
    n_seeds = lengths.pop()
    kept = [s for s in range(n_seeds) if all(_finished(runs[s]) for runs in (*a, *b))]
    if len(kept) < 2:
        return GroupDifference(None, kept)

    def group_mean(group: Sequence[Sequence[Any]]) -> np.ndarray:
        return np.stack([np.mean([per_seed_values(runs[s], measure) for runs in group], axis=0) for s in kept])

    return GroupDifference(paired_difference(group_mean(a), group_mean(b), level=level), kept)


def compare_runs(a_name: str, b_name: str, result: GroupDifference, **kwargs: Any) -> str:
    """:func:`report.compare` of a :func:`group_difference`, or, with fewer than two seeds left,
    a sentence saying that this run cannot compare them (keyword arguments go to ``compare``)."""
    if result.diff is None:
        quantity = kwargs.get("quantity", "오차율")
        return (f"두 쪽이 모두 끝난 시드가 {len(result.kept)}개뿐이라 이 실행으로는 {a_name}{josa(a_name, '과/와')} "
                f"{b_name}의 {with_josa(quantity, '을/를')} 비교할 수 없습니다")
    return compare(a_name, b_name, result.diff, **kwargs)
