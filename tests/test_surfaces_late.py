"""plot_paths on a grid measured beforehand (the network's loss slice is too costly to re-evaluate)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dldna_helpers.surfaces import Path, plot_paths  # noqa: E402


def _never(x, y):
    raise AssertionError("plot_paths evaluated the function although a grid was given")


def test_a_given_grid_is_drawn_without_evaluating_the_function():
    xs, ys = np.linspace(-1, 1, 5), np.linspace(-2, 2, 7)
    Z = np.add.outer(ys**2, xs**2)
    path = Path("p", np.array([[0.5, 1.0], [0.0, 0.0]]), np.array([1.25, 0.0]))
    fig, ax = plt.subplots()
    cs = plot_paths(ax, _never, {"p": path}, (-1, 1), (-2, 2), grid=(xs, ys, Z))
    assert cs.levels.min() <= Z.min() and cs.levels.max() >= Z.max()
    plt.close(fig)


def test_a_grid_of_the_wrong_shape_is_refused():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="shape"):
        plot_paths(ax, _never, {}, (-1, 1), (-1, 1), grid=(np.zeros(3), np.zeros(4), np.zeros((3, 4))))
    plt.close(fig)


def test_paths_survive_a_save_and_load(tmp_path):
    import torch

    from dldna_helpers.surfaces import paths_from_state, paths_to_state
    paths = {"a": Path("SGD", np.array([[0.0, 1.0], [0.5, 0.25]]), np.array([2.0, 0.5])),
             "b": Path("Lion", np.array([[1.0, 1.0]]), np.array([3.0]), diverged_step=4)}
    torch.save(paths_to_state(paths), tmp_path / "p.pt")
    back = paths_from_state(torch.load(tmp_path / "p.pt", weights_only=True))
    assert list(back) == ["a", "b"]
    for key in paths:
        assert back[key].label == paths[key].label and back[key].diverged_step == paths[key].diverged_step
        assert np.array_equal(back[key].xy, paths[key].xy) and np.array_equal(back[key].loss, paths[key].loss)
    with pytest.raises(ValueError, match="saved set of paths"):
        paths_from_state({"a": {"xy": 1}})
