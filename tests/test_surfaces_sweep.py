"""dldna_helpers.path_sweep: one fixed grid of learning rates for every optimizer, extended until
the pick is interior, so that no comparison is decided by how its candidates were scaled."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dldna_helpers.optim import SGD
from dldna_helpers.path_sweep import (
    Sweep,
    grid_index,
    half_decade,
    median_steps,
    sweeps_from_state,
    sweeps_to_state,
    tune_learning_rate,
    tune_learning_rates,
)
from dldna_helpers.surfaces import Path, ill_conditioned_quadratic


def test_the_grid_is_half_decades_and_its_index_inverts_it():
    assert [half_decade(k) for k in range(-4, 3)] == pytest.approx([0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0])
    for k in range(-12, 12):
        assert grid_index(half_decade(k)) == k
    with pytest.raises(ValueError, match="half-decade"):
        grid_index(0.5)
    with pytest.raises(ValueError, match="positive"):
        grid_index(-1.0)
    with pytest.raises(TypeError):
        half_decade(1.5)


def _path(losses, diverged=None):
    losses = np.asarray(losses, dtype=float)
    return Path("p", np.zeros((len(losses), 2)), losses, diverged)


def test_median_steps_counts_a_path_that_never_stays_as_infinite():
    reach2, reach4, never = _path([5, 1, 0.05, 0.01]), _path([5, 4, 3, 2, 0.01]), _path([5, 0.01, 3])
    assert median_steps([reach2], 0.0, 0.1) == 2
    assert median_steps([reach2, reach4, never], 0.0, 0.1) == 4
    assert math.isinf(median_steps([reach2, never], 0.0, 0.1))   # half never reach
    assert math.isinf(median_steps([_path([5, 0.0], diverged=2)], 0.0, 0.1))
    with pytest.raises(ValueError, match="empty"):
        median_steps([], 0.0, 0.1)


def test_gradient_descent_on_a_quadratic_picks_an_interior_rate_below_the_stability_limit():
    """On w1² + 8·w2² GD diverges for lr > 1/8: the grid starting at 0.03, 0.1, 0.3 must find 0.1
    (0.3 diverges, 0.03 is slower) without any extension of the grid; because 0.3 diverged, finer points
    between 0.1 and 0.3 are tried, and the pick stays interior (its upper neighbour fails without
    diverging). Starting far below, it must climb to it."""
    make = lambda p, lr: SGD(p, lr=lr)  # noqa: E731
    near = tune_learning_rate(ill_conditioned_quadratic, (-3.0, 1.0), make, 60, target=0.0, tol=0.01, name="GD")
    assert near.best == pytest.approx(0.1) and near.interior
    assert near.diverged(max(near.runs)) and not near.diverged(near.neighbours()[1])
    assert min(near.runs) == pytest.approx(0.03) and max(near.runs) == pytest.approx(0.3)
    assert len(near.runs) > 3 and all(0.1 < lr < 0.3 for lr in sorted(near.runs)[2:-1])
    assert near.path.label == "GD" and near.reached_count() == 2
    far = tune_learning_rate(ill_conditioned_quadratic, (-3.0, 1.0), make, 60, target=0.0, tol=0.01,
                             first=(-9, -8, -7))
    assert far.best == pytest.approx(0.1) and far.interior
    assert min(far.runs) == pytest.approx(half_decade(-9)) and max(far.runs) == pytest.approx(0.3)


def test_several_starts_use_the_median_and_every_start_keeps_its_path():
    starts = [(-3.0, 1.0), (2.0, -0.5), (0.5, 1.5)]
    sweep = tune_learning_rate(ill_conditioned_quadratic, starts, lambda p, lr: SGD(p, lr=lr), 60,
                               target=0.0, tol=0.01)
    assert all(len(paths) == 3 for paths in sweep.runs.values())
    assert [tuple(p.xy[0]) for p in sweep.runs[sweep.best]] == starts
    assert sweep.steps(sweep.best) == median_steps(sweep.runs[sweep.best], 0.0, 0.01)


def test_the_extension_stops_at_max_candidates_when_nothing_is_interior():
    """An optimizer that ignores lr scores the same everywhere; the sweep must still end."""
    sweep = tune_learning_rate(ill_conditioned_quadratic, (1.0, 1.0), lambda p, lr: SGD(p, lr=0.05), 5,
                               target=0.0, tol=1e-3, max_candidates=5)
    assert len(sweep.runs) == 5 and not sweep.interior


@pytest.mark.parametrize("kwargs, message", [
    ({"tol": 0.0}, "tol"), ({"tol": float("nan")}, "tol"), ({"first": (1,)}, "two grid indices"),
    ({"max_candidates": 2}, "max_candidates"), ({"start": (1.0, float("nan"))}, "start"),
    ({"start": [(1.0, 2.0, 3.0)]}, "start"),
])
def test_bad_arguments_are_refused_before_any_run(kwargs, message):
    args = {"start": (1.0, 1.0), "tol": 0.1, **kwargs}
    start = args.pop("start")
    with pytest.raises(ValueError, match=message):
        tune_learning_rate(ill_conditioned_quadratic, start, lambda p, lr: SGD(p, lr=lr), 5, target=0.0, **args)


def test_several_optimizers_are_tuned_and_survive_a_save_and_load(tmp_path):
    makers = {"GD": lambda p, lr: SGD(p, lr=lr), "모멘텀": lambda p, lr: SGD(p, lr=lr, momentum=0.5)}
    sweeps = tune_learning_rates(ill_conditioned_quadratic, (-3.0, 1.0), makers, 40, target=0.0, tol=0.01)
    assert list(sweeps) == ["GD", "모멘텀"] and all(isinstance(s, Sweep) for s in sweeps.values())
    torch.save(sweeps_to_state(sweeps), tmp_path / "s.pt")
    back = sweeps_from_state(torch.load(tmp_path / "s.pt", weights_only=True))
    for name, sweep in sweeps.items():
        assert back[name].best == sweep.best and back[name].tol == sweep.tol
        assert sorted(back[name].runs) == sorted(sweep.runs)
        np.testing.assert_array_equal(back[name].path.xy, sweep.path.xy)
    with pytest.raises(ValueError, match="saved set of sweeps"):
        sweeps_from_state({"GD": {"runs": {}}})
    with pytest.raises(ValueError, match="empty"):
        tune_learning_rates(ill_conditioned_quadratic, (1.0, 1.0), {}, 5, target=0.0, tol=0.1)


def test_a_pick_next_to_a_diverged_rate_is_refined_and_named_below_divergence():
    """Candidates are scored only by steps to reach; a rate that diverges is not a "worse
    neighbour". With a step count that favours the largest stable rate, the sweep must refine
    towards the divergence edge and report the pick as below_divergence, not interior."""
    fast = Path("p", np.zeros((3, 2)), np.array([1.0, 0.0, 0.0]))
    sweep = Sweep("s", {0.1: [_path([1.0, 0.5, 0.0, 0.0])], 0.3: [fast], 1.0: [_path([1.0], diverged=1)]},
                  target=0.0, tol=0.01)
    assert sweep.best == pytest.approx(0.3) and not sweep.interior and sweep.below_divergence
    assert sweep.edge_ratio() == pytest.approx(1 / 0.3)
    sweep.runs[0.5] = [_path([1.0, 0.5, 0.2, 0.0])]      # a finer point between that does not diverge
    sweep.runs = dict(sorted(sweep.runs.items()))
    assert sweep.interior and not sweep.below_divergence


def test_settle_is_kept_by_the_sweep_and_its_saved_state():
    late = _path([5.0, 3.0, 2.0, 1.0, 0.01])
    sweep = Sweep("s", {0.1: [late]}, target=0.0, tol=0.05, settle=2)
    assert math.isinf(sweep.steps(0.1))
    back = sweeps_from_state(sweeps_to_state({"s": sweep}))["s"]
    assert back.settle == 2 and math.isinf(back.steps(0.1))
