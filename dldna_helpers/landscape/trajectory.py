"""2-D pictures of a run's weight trajectory: PCA and t-SNE of the per-epoch checkpoints."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import torch

METHODS = ("pca", "tsne")


@dataclass
class TrajectoryEmbedding:
    """``coords[i]`` is the 2-D position of the checkpoint of epoch ``epochs[i]``.

    For PCA, ``explained_variance_ratio`` holds the share of the trajectory's variance that each
    of the two axes captures; t-SNE has no such number (``None``).
    """

    epochs: list[int]
    coords: np.ndarray
    method: str
    explained_variance_ratio: np.ndarray | None = None


def _ordered(checkpoints: Any) -> list[tuple[int, Mapping[str, torch.Tensor]]]:
    """(epoch, state_dict) pairs sorted by epoch number (numerically, never as strings)."""
    if isinstance(checkpoints, Mapping):
        items = list(checkpoints.items())
    else:
        items = list(checkpoints)
        if items and isinstance(items[0], Mapping):
            items = list(enumerate(items))
    pairs = []
    for item in items:
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], Mapping)):
            raise TypeError("checkpoints must be (epoch, state_dict) pairs, a {epoch: state_dict} dict or a list of state_dicts")
        pairs.append((int(item[0]), item[1]))
    return sorted(pairs, key=lambda pair: pair[0])


def flatten_state(state: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """All floating-point entries of a state dict as one float64 vector (fixed key order)."""
    parts = [v.detach().reshape(-1).double().cpu() for _, v in sorted(state.items()) if v.is_floating_point()]
    if not parts:
        raise ValueError("the state dict holds no floating-point tensors")
    return torch.cat(parts)


def trajectory_embedding(
    checkpoints: Sequence | Mapping, method: str = "pca", seed: int = 0, perplexity: float | None = None
) -> TrajectoryEmbedding:
    """Embed a run's checkpoints in 2-D, ordered by epoch.

    ``checkpoints``: what :func:`dldna_helpers.training.load_checkpoints` returns, a dict
    ``{epoch: state_dict}`` or a list of state dicts in epoch order. ``method`` is ``"pca"``
    (linear: the axes are in weight-space units, but a projection can only shorten distances) or ``"tsne"`` (nonlinear:
    keeps neighbours close, distances are not comparable). ``perplexity`` defaults to about a third
    of the number of checkpoints (t-SNE needs it below that number).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    pairs = _ordered(checkpoints)
    if len(pairs) < 3:
        raise ValueError(f"need at least 3 checkpoints for a 2-D embedding, got {len(pairs)}")
    epochs = [e for e, _ in pairs]
    if len(set(epochs)) != len(epochs):
        raise ValueError(f"duplicate epoch numbers in checkpoints: {epochs}")
    vectors = torch.stack([flatten_state(s) for _, s in pairs])
    if len({v.numel() for v in vectors}) != 1:
        raise ValueError("checkpoints have different sizes; they must come from one architecture")
    if method == "pca":
        centred = vectors - vectors.mean(0, keepdim=True)
        # SVD of the small (n_checkpoints × n_weights) matrix: no n_weights² covariance is formed
        u, s, _ = torch.linalg.svd(centred, full_matrices=False)
        coords = (u[:, :2] * s[:2]).numpy()
        ratio = (s[:2] ** 2 / (s**2).sum()).numpy()
        return TrajectoryEmbedding(epochs, coords, "pca", ratio)
    from sklearn.manifold import TSNE

    n = len(pairs)
    perp = perplexity if perplexity is not None else max(1.0, (n - 1) / 3)
    if not 0 < perp < n:
        raise ValueError(f"perplexity must be in (0, {n}) for {n} checkpoints, got {perp}")
    tsne = TSNE(n_components=2, perplexity=perp, init="pca", random_state=seed)
    coords = tsne.fit_transform(vectors.numpy())
    return TrajectoryEmbedding(epochs, np.asarray(coords), "tsne", None)
