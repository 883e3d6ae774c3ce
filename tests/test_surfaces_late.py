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
