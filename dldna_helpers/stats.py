"""The chapter's one rule for deciding whether two methods differ.

Two methods compared on the chapter's pages are trained with the same seeds (seed ``s`` gives
both the same data order and, where the architecture matches, the same starting weights) and
scored on the same test images. Their difference A − B therefore has two sources of
uncertainty, crossed with each other:

- **the seeds**: another draw of training randomness would change it, and
- **the test samples**: another test set from the same distribution would change it.

Both are estimated from the per-sample results of every run (an error indicator 0/1 or a
per-sample loss per test image), arranged as an array of shape ``(seeds, samples)`` and
differenced sample by sample — a *paired* comparison, which removes the (large) share of the
variance that comes from how hard each image is and from how hard each seed's training went.

For the differences ``D[s, i]`` this module uses the two-way crossed random-effects model
``D[s, i] = μ + a_s + b_i + e_si``. The grand mean ``D̄`` has variance
``σ_a²/S + σ_b²/n + σ_e²/(S n)``, estimated from the mean squares of the two-way layout as two
parts:

- the **seed part** ``MS_seed/(S n)`` = var(seed means)/S, with ``S − 1`` degrees of freedom
  (it holds ``σ_a²/S + σ_e²/(S n)``: everything that changes from seed to seed);
- the **test-set part** ``max(MS_sample − MS_resid, 0)/(S n)`` = ``σ_b²/n``, estimated from
  thousands of degrees of freedom, so practically known.

The 95% interval is ``D̄ ± t_{0.975, df} · √(seed part + test-set part)`` with
``df = (S − 1) · (seed part + test-set part) / seed part``. With no test-set part this is the
paired t-test on the seed means, exactly :func:`scipy.stats.ttest_rel` (t = 4.30 for 3 seeds,
2.78 for 5); as the precisely known test-set part takes over, df grows and t falls toward 1.96.

Why this df and not Satterthwaite's ``(S − 1)(1 + r)²`` (r = test-set part / seed part): adding a
known variance to one estimated from 2 degrees of freedom, Satterthwaite's interval is too
narrow — measured, it declares a difference under a true null in up to 7.8% of comparisons
with 3 seeds (r ≈ 0.1–0.25). The linear growth used here keeps that rate between 3.7% and 5.8%
for 3 seeds and between 4.0% and 5.1% for 5, at every r (``tests/test_stats.py`` simulates it).
Plain Student t on the seed means alone would ignore the test-set part; Student t with ``S − 1``
df on the total would be valid but declares almost nothing once the test-set part is comparable
(0.05% at r = 1 for 3 seeds).

Why not a bootstrap: with three seeds a bootstrap over seeds has ten distinct resamples and its
percentile interval covers far less than 95% (``tests/test_stats.py`` measures it).

Per-seed scalars (a final training loss, the mean of a curve) carry no sample level; their
paired difference is the paired t-test on the seeds. Runs not paired by seed, or scored on
different samples, use :func:`unpaired_difference` (Welch's test with the same decomposition per
group). A method whose run diverged has no result for that seed: leave the seed out of *both*
arrays (:func:`paired_seeds`), and say so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from scipy import stats as _scipy_stats

__all__ = ["Difference", "paired_difference", "unpaired_difference", "t_quantile", "family_level",
           "paired_seeds"]

LEVEL = 0.95


def t_quantile(df: float, level: float = LEVEL) -> float:
    """The two-sided ``level`` quantile of Student's t with ``df`` degrees of freedom
    (1.96 as ``df`` → ∞; 4.30 for df = 2)."""
    if not (0 < level < 1):
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if not df > 0:
        raise ValueError(f"degrees of freedom must be positive, got {df!r}")
    return float(_scipy_stats.t.ppf(0.5 + level / 2, df))


def family_level(comparisons: int, level: float = LEVEL) -> float:
    """The per-comparison level that keeps the chance of any false "clear difference" among
    ``comparisons`` comparisons at ``1 − level`` (Bonferroni): for a sentence that names every
    clear pair among many, not for one planned comparison."""
    if not (isinstance(comparisons, int) and comparisons >= 1):
        raise ValueError(f"comparisons must be a positive int, got {comparisons!r}")
    return 1 - (1 - level) / comparisons


@dataclass(frozen=True)
class Difference:
    """A − B with the half-width of its ``level`` interval (the margin of error, 오차 범위).

    ``sign`` is −1 when the whole interval lies below 0 (A clearly lower), +1 when above, 0 when
    the interval contains 0: the difference is then not interpreted."""

    value: float
    half_width: float
    df: float
    seeds: int
    samples: int | None
    level: float = LEVEL
    paired: bool = True

    @property
    def low(self) -> float:
        return self.value - self.half_width

    @property
    def high(self) -> float:
        return self.value + self.half_width

    @property
    def sign(self) -> int:
        if self.low > 0:
            return 1
        if self.high < 0:
            return -1
        return 0

    def scaled(self, factor: float) -> "Difference":
        """The same difference in other units (e.g. ×100 for percentage points)."""
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"factor must be a positive finite number, got {factor!r}")
        return Difference(self.value * factor, self.half_width * factor, self.df, self.seeds,
                          self.samples, self.level, self.paired)


def _as_runs(values, name: str) -> np.ndarray:
    """``values`` as a float array of shape (seeds,) or (seeds, samples), checked."""
    array = np.asarray(values, dtype=float)
    if array.ndim not in (1, 2):
        raise ValueError(f"{name} must be per-seed values (seeds,) or per-sample values (seeds, samples), "
                         f"got an array of shape {array.shape}")
    if array.shape[0] < 2:
        raise ValueError(f"{name} has {array.shape[0]} seed(s): one run gives a number, not a comparison; "
                         "the rule needs at least 2 seeds (3 or more to decide anything)")
    if array.ndim == 2 and array.shape[1] < 2:
        raise ValueError(f"{name} has {array.shape[1]} test sample(s) per seed; need at least 2")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds non-finite values (a diverged run?): leave that seed out of both "
                         "methods (stats.paired_seeds) instead")
    return array


def _parts(d: np.ndarray) -> tuple[float, float]:
    """(seed part, test-set part) of the variance of the mean of ``d`` (module doc)."""
    seeds = d.shape[0]
    if d.ndim == 1:
        return float(d.var(ddof=1)) / seeds, 0.0
    n = d.shape[1]
    seed_means, sample_means, grand = d.mean(axis=1), d.mean(axis=0), float(d.mean())
    ms_seed = n * float(seed_means.var(ddof=1))
    ms_sample = seeds * float(sample_means.var(ddof=1))
    resid = d - seed_means[:, None] - sample_means[None, :] + grand
    ms_resid = float((resid ** 2).sum()) / ((seeds - 1) * (n - 1))
    if ms_seed == 0.0:
        # seed means that coincide exactly (0/1 data on few samples) do not mean the seeds agree:
        # E[MS_seed] ≥ σ_e², so the interaction's mean square is the smallest honest seed part
        ms_seed = ms_resid
    # the seed part keeps the seed × sample interaction (it varies with the seeds); the test-set
    # part is the samples' main effect alone, estimated from n − 1 and (S − 1)(n − 1) degrees of
    # freedom: precise next to the seed part, and never negative
    return ms_seed / (seeds * n), max(ms_sample - ms_resid, 0.0) / (seeds * n)


def _half_width(seed_part: float, test_part: float, seed_df: float, level: float, what: str) -> tuple[float, float]:
    """(half-width, degrees of freedom) of the interval; see the module doc for the df rule."""
    variance = seed_part + test_part
    if not variance > 0:
        raise ValueError(f"{what}: the runs do not vary at all (zero variance), so no interval can be "
                         "estimated; identical results need no test, and a constant per-seed value says "
                         "nothing about its uncertainty")
    df = seed_df * variance / seed_part if seed_part > 0 else math.inf
    df = min(df, 1e6)
    return t_quantile(df, level) * math.sqrt(variance), df


def paired_difference(a: Sequence | np.ndarray, b: Sequence | np.ndarray, *,
                      level: float = LEVEL) -> Difference:
    """A − B, paired by seed (row) and, for per-sample results, by test sample (column).

    ``a`` and ``b`` are per-seed values ``(seeds,)`` or per-sample values ``(seeds, samples)`` of the
    same shape: row ``s`` of both is seed ``s``, column ``i`` the same test image. The interval is
    the two-way random-effects one of the module's doc (Student's t on the seeds when there are no
    samples)."""
    a, b = _as_runs(a, "a"), _as_runs(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a paired comparison needs the same seeds and the same test samples: shapes "
                         f"{a.shape} and {b.shape} differ (use unpaired_difference for different test sets)")
    d = a - b
    value = float(d.mean())
    half, df = _half_width(*_parts(d), a.shape[0] - 1, level, "paired_difference")
    return Difference(value, half, df, a.shape[0], a.shape[1] if a.ndim == 2 else None, level, True)


def unpaired_difference(a: Sequence | np.ndarray, b: Sequence | np.ndarray, *,
                        level: float = LEVEL) -> Difference:
    """A − B for runs that share neither seeds nor test samples (Welch): each group's mean gets
    its own variance (the decomposition of the module's doc, per group), the two add."""
    a, b = _as_runs(a, "a"), _as_runs(b, "b")
    if a.ndim != b.ndim:
        raise ValueError(f"a and b must both be per-seed or both per-sample values, got shapes {a.shape} and {b.shape}")
    value = float(a.mean() - b.mean())
    (seed_a, test_a), (seed_b, test_b) = _parts(a), _parts(b)
    seed_part, test_part = seed_a + seed_b, test_a + test_b
    # Welch–Satterthwaite for the two seed parts, then the same growth with the test-set share
    # as in the paired rule
    if seed_part > 0:
        welch = seed_part ** 2 / (seed_a ** 2 / (a.shape[0] - 1) + seed_b ** 2 / (b.shape[0] - 1))
    else:
        welch = 1.0
    half, df = _half_width(seed_part, test_part, welch, level, "unpaired_difference")
    samples = a.shape[1] if a.ndim == 2 and a.shape[1] == b.shape[1] else None
    return Difference(value, half, df, min(a.shape[0], b.shape[0]), samples, level, False)


def paired_seeds(results: Mapping[str, Mapping[int, np.ndarray | float | None]],
                 names: Sequence[str]) -> tuple[list[int], dict[str, np.ndarray]]:
    """The seeds every method in ``names`` finished (``None`` marks a diverged run) and, per
    method, its results stacked over those seeds in seed order — ready for
    :func:`paired_difference`."""
    seeds = sorted(set.intersection(*(set(k for k, v in results[n].items() if v is not None) for n in names)))
    return seeds, {n: np.stack([np.asarray(results[n][s], dtype=float) for s in seeds]) for n in names}
