"""The learning-rate search of 5.2: its pick ends interior, never at the edge of what was tried."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from dldna_helpers import lr_search as ls


@dataclass
class FakeRun:
    """What the search reads from a training run: diverged, and the final training loss."""
    train_loss: list[float]
    diverged: bool = False


def loss_curve(best: float, cliff: float | None = None):
    """A U-shaped final loss over offsets with its minimum at ``best``; diverged above ``cliff``."""
    def run(name: str, x: float) -> FakeRun:
        if cliff is not None and x >= cliff:
            return FakeRun([float("nan")], diverged=True)
        return FakeRun([1.0, 0.3 + (x - best) ** 2])
    return run


def search_with(run, points: int = 3, limit: float = ls.LIMIT) -> ls.LrSearch:
    search = ls.LrSearch({"opt": 1e-3}, points=points, limit=limit)
    while tasks := search.pending():
        search.record(tasks, [run(*t) for t in tasks])
        assert search.rounds < 30, "the search must end"
    return search


def test_first_grid_is_centred_half_decades():
    assert ls.first_offsets(3) == [-0.5, 0.0, 0.5]
    assert ls.first_offsets(5) == [-1.0, -0.5, 0.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="points"):
        ls.first_offsets(0)


@pytest.mark.parametrize("best", [-1.7, -0.2, 0.0, 0.9, 2.2])
def test_the_grid_grows_until_the_pick_is_interior(best):
    search = search_with(loss_curve(best))
    pick = search.pick("opt")
    assert search.status("opt") == "interior"
    assert abs(pick - best) <= ls.COARSE / 2 + 1e-9        # the nearest half-decade point
    xs = sorted(search.losses("opt"))
    assert xs[0] < pick < xs[-1]
    assert search.lr("opt", pick) == pytest.approx(1e-3 * 10 ** pick)


def test_a_diverged_neighbour_is_split_down_to_an_eighth_of_a_decade():
    search = search_with(loss_curve(best=2.0, cliff=0.3))       # the loss keeps falling up to divergence
    losses = search.losses("opt")
    pick = search.pick("opt")
    assert search.status("opt") == "cliff"
    above = min(x for x in losses if x > pick)
    assert losses[above] is None and above - pick == pytest.approx(ls.FINEST)
    assert pick == pytest.approx(0.25)


def test_a_diverged_neighbour_with_a_better_point_below_is_interior():
    search = search_with(loss_curve(best=0.0, cliff=0.5))
    assert search.status("opt") == "interior" and search.pick("opt") == 0.0
    assert 0.25 in search.losses("opt")                          # the split was tried and was worse


def test_the_search_stops_at_its_limit_and_says_edge():
    search = search_with(loss_curve(best=5.0), limit=1.5)
    assert search.pick("opt") == 1.5 and search.status("opt") == "edge"


def test_everything_diverged_goes_down_and_then_gives_up():
    search = search_with(loss_curve(best=0.0, cliff=-10.0), limit=1.0)
    assert all(v is None for v in search.losses("opt").values())
    assert min(search.losses("opt")) == -1.0
    with pytest.raises(ValueError, match="no pick"):
        search.pick("opt")


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="positive number"):
        ls.LrSearch({"opt": 0.0})
    with pytest.raises(ValueError, match="first_offsets"):
        ls.next_offsets({})
    search = ls.LrSearch({"opt": 1e-3})
    with pytest.raises(ValueError, match="3 tasks but 2 results"):
        search.record(search.pending(), [FakeRun([1.0]), FakeRun([1.0])])
