"""Topology of a loss grid: 0-dimensional persistence of its sublevel sets.

Flood the grid from below: a basin is born at a local minimum (its loss is the birth value) and
dies when the water level reaches the saddle where it merges with an older, deeper basin (the
death value); the deepest basin never dies. Persistence = death − birth: how much the loss would
have to change to remove the minimum. Computed exactly by union-find over the grid graph,
visiting points in increasing loss (the elder rule keeps the older basin).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONNECTIVITY = (4, 8)


@dataclass
class Persistence:
    """H0 persistence pairs, one per local minimum, sorted by persistence (longest first).

    ``birth[i]``/``death[i]`` are loss values (``death = inf`` for the global minimum);
    ``location[i]`` is the grid index ``(row, column)`` = ``(y, x)`` of the minimum.
    """

    birth: np.ndarray
    death: np.ndarray
    location: list[tuple[int, int]]

    @property
    def persistence(self) -> np.ndarray:
        return self.death - self.birth

    def count(self, threshold: float) -> int:
        """Number of minima whose persistence exceeds ``threshold`` (the global one included)."""
        if not threshold >= 0:
            raise ValueError(f"threshold must be a non-negative number, got {threshold!r}")
        return int((self.persistence > threshold).sum())


def _neighbours(rows: int, cols: int, connectivity: int) -> list[tuple[int, int]]:
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    if connectivity == 8:
        steps += [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    return steps


def sublevel_persistence(grid: np.ndarray, connectivity: int = 8) -> Persistence:
    """H0 persistence of the sublevel-set filtration of ``grid`` (lower-star on the grid graph).

    Neighbours are the 4 axis neighbours or (default) all 8 including diagonals. Ties are broken by
    position, so flat regions produce no spurious pairs of positive persistence.
    """
    z = np.asarray(grid, dtype=float)
    if z.ndim != 2 or z.size == 0:
        raise ValueError(f"grid must be a non-empty 2-D array, got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("grid contains nan or inf; persistence needs finite values")
    if connectivity not in CONNECTIVITY:
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    rows, cols = z.shape
    flat = z.ravel()
    order = np.argsort(flat, kind="stable")
    parent = np.full(flat.size, -1, dtype=np.int64)   # -1: not yet in the sublevel set
    birth_of_root = np.zeros(flat.size)
    pairs: list[tuple[float, float, int]] = []

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:  # path compression
            parent[i], i = root, parent[i]
        return root

    steps = _neighbours(rows, cols, connectivity)
    for idx in order:
        idx = int(idx)
        r, c = divmod(idx, cols)
        parent[idx] = idx
        birth_of_root[idx] = flat[idx]
        roots = set()
        for dr, dc in steps:
            rr, cc = r + dr, c + dc
            if 0 <= rr < rows and 0 <= cc < cols and parent[rr * cols + cc] >= 0:
                roots.add(find(rr * cols + cc))
        if not roots:
            continue  # a new basin: idx is a local minimum
        # the oldest (lowest-born) basin absorbs the others, and idx itself
        elder = min(roots, key=lambda q: (birth_of_root[q], q))
        for q in roots:
            if q != elder:
                pairs.append((birth_of_root[q], flat[idx], q))
                parent[q] = elder
        parent[idx] = elder
    survivor = find(int(order[0]))
    pairs.append((birth_of_root[survivor], np.inf, survivor))
    # a basin born at its own merge value has zero persistence only with ties: drop those
    kept = [p for p in pairs if p[1] > p[0]]
    kept.sort(key=lambda p: -(p[1] - p[0]))
    return Persistence(
        np.array([p[0] for p in kept]), np.array([p[1] for p in kept]), [divmod(int(p[2]), cols) for p in kept]
    )
