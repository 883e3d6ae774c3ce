"""Per-epoch dynamics of a training run, recorded through the hooks of :func:`training.train`.

A :class:`DynamicsTracker` records, per epoch: the training loss, the mean global
gradient L2 norm (all parameters as one vector), the L2 distance the parameters moved
since the previous epoch, the global weight norm, the loss improvement, and the mean
gradient norm of every layer. :func:`tracked_train` wires it into ``train`` and, with a
cache configuration, stores the record with the run's checkpoints (one commit for all of
them), so a cached run returns its dynamics too (``train`` skips the hooks when it loads
from the cache).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from .landscape import hessian_top_eigen
from .run_cache import CacheCorruptError, entry_folder, fix_command, require_fields
from .training import History, global_grad_norm, load_record, train

DYNAMICS_FORMAT = 1  # part of the cache key of tracked runs


@dataclass
class DynamicsRecord:
    """Per-epoch metrics; index 0 is the state before training (gradient entries are nan there)."""

    layer_names: list[str]
    loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    param_change: list[float] = field(default_factory=list)
    weight_norm: list[float] = field(default_factory=list)
    loss_improvement: list[float] = field(default_factory=list)
    layer_grad_norms: list[list[float]] = field(default_factory=list)  # [epoch][layer]

    @property
    def epochs(self) -> int:
        return len(self.loss) - 1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, blob: Mapping[str, Any]) -> "DynamicsRecord":
        """The inverse of :meth:`to_json`; a missing field is an error, not an empty list."""
        missing = [n for n in cls.__dataclass_fields__ if n not in blob]
        if missing:
            raise ValueError(f"dynamics record lacks the field(s) {', '.join(missing)}")
        return cls(**{n: blob[n] for n in cls.__dataclass_fields__})


DYNAMICS_FIELDS = tuple(DynamicsRecord.__dataclass_fields__)


@dataclass(frozen=True)
class MovingAverage:
    """Trailing means of a series: ``values[i]`` averages the ``window`` entries ending at step
    ``end_steps[i]`` (steps counted from 1)."""

    window: int
    end_steps: np.ndarray
    values: np.ndarray


def moving_average(series: Sequence[float], window: int) -> MovingAverage:
    """Trailing mean over ``window`` steps; a series shorter than the window is averaged whole."""
    data = np.asarray(series, dtype=float)
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    if data.size == 0:
        raise ValueError("cannot average an empty series")
    window = min(window, data.size)
    means = np.convolve(data, np.ones(window) / window, mode="valid")
    return MovingAverage(window, np.arange(window, data.size + 1), means)


def flat_parameters(model: nn.Module) -> torch.Tensor:
    """All trainable parameters as one detached float64 vector (a copy)."""
    return torch.cat([p.detach().reshape(-1).double() for p in model.parameters() if p.requires_grad]).cpu()


def global_weight_norm(model: nn.Module) -> float:
    """L2 norm of all trainable parameters taken together."""
    return float(torch.linalg.vector_norm(flat_parameters(model)))


def layer_groups(model: nn.Module) -> dict[str, list[nn.Parameter]]:
    """Trainable parameters grouped by the module that owns them (e.g. a Linear's weight and bias),
    in the order ``model.parameters()`` visits them, i.e. from the input to the output."""
    groups: dict[str, list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            owner = name.rsplit(".", 1)[0] if "." in name else name
            groups.setdefault(owner, []).append(p)
    return groups


class DynamicsTracker:
    """Pass ``tracker.after_backward`` and ``tracker.on_epoch_end`` to :func:`training.train`.

    ``layers`` restricts the per-layer record to some owner names of :func:`layer_groups`
    (default: every module that owns parameters). Gradient norms are measured right after
    ``backward()``, before any clipping, so they show what the loss asked for.
    """

    def __init__(self, model: nn.Module, layers: list[str] | None = None) -> None:
        groups = layer_groups(model)
        if not groups:
            raise ValueError("the model has no trainable parameters to track")
        if layers is not None:
            unknown = [name for name in layers if name not in groups]
            if unknown or not layers:
                raise ValueError(f"unknown layer name(s) {unknown or layers!r}; allowed: {', '.join(groups)}")
            groups = {name: groups[name] for name in layers}
        self._groups = groups
        self._previous = flat_parameters(model)
        self.record = DynamicsRecord(layer_names=list(groups))
        self._reset_sums()
        self._started = False

    def _reset_sums(self) -> None:
        self._layer_sums = [0.0] * len(self._groups)
        self._steps = 0

    def after_backward(self, model: nn.Module) -> None:
        # The global norm is already recorded by train() (History.grad_norm); only the
        # per-layer norms are measured here.
        for i, params in enumerate(self._groups.values()):
            self._layer_sums[i] += global_grad_norm(params)
        self._steps += 1

    def _start(self, history: History) -> None:
        """Epoch 0 from the history's evaluation before training and the tracker's first snapshot."""
        r = self.record
        r.loss.append(history.train_loss[0])
        r.test_loss.append(history.test_loss[0])
        r.grad_norm.append(math.nan)
        r.param_change.append(math.nan)
        r.weight_norm.append(float(torch.linalg.vector_norm(self._previous)))
        r.loss_improvement.append(math.nan)
        r.layer_grad_norms.append([math.nan] * len(self._groups))
        self._started = True

    def on_epoch_end(self, epoch: int, model: nn.Module, history: History) -> None:
        if not self._started:
            self._start(history)
        r = self.record
        current = flat_parameters(model)
        steps = max(self._steps, 1)
        r.loss.append(history.train_loss[-1])
        r.test_loss.append(history.test_loss[-1])
        r.grad_norm.append(history.grad_norm[-1])
        r.param_change.append(float(torch.linalg.vector_norm(current - self._previous)))
        r.weight_norm.append(float(torch.linalg.vector_norm(current)))
        r.loss_improvement.append(r.loss[-2] - r.loss[-1])
        r.layer_grad_norms.append([s / steps for s in self._layer_sums])
        self._previous = current
        self._reset_sums()


def tracked_train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_loader: Any,
    test_loader: Any,
    epochs: int,
    *,
    layers: list[str] | None = None,
    cache_config: Mapping[str, Any] | None = None,
    **train_kwargs: Any,
) -> tuple[History, DynamicsRecord]:
    """:func:`training.train` with a :class:`DynamicsTracker`; returns the history and the dynamics.

    With ``cache=True`` (or ``cache_config``) the record is stored as ``dynamics.json`` with the run's other files
    (published together when the run ends, never rewritten), and a cached run returns it
    without training.
    """
    for hook in ("after_backward", "on_epoch_end", "extra_records"):
        if hook in train_kwargs:
            raise ValueError(f"tracked_train sets {hook} itself; pass other keyword arguments only")
    caching = cache_config is not None or bool(train_kwargs.get("cache"))
    config = {**(cache_config or {}), "dynamics_format": DYNAMICS_FORMAT} if caching else None
    tracker = DynamicsTracker(model, layers)

    def finished(history: History) -> DynamicsRecord:
        if not tracker._started:  # no epoch finished (epochs=0 or divergence in epoch 1)
            tracker._start(history)
        return tracker.record

    history = train(model, optimizer, train_loader, test_loader, epochs,
                    after_backward=tracker.after_backward, on_epoch_end=tracker.on_epoch_end,
                    cache_config=config, extra_records=lambda h: {"dynamics": finished(h).to_json()},
                    **train_kwargs)
    if history.from_cache:
        folder = entry_folder(history)
        try:
            blob = require_fields(load_record(history, "dynamics"), DYNAMICS_FIELDS, folder / "dynamics.json")
        except CacheCorruptError as err:
            raise CacheCorruptError(f"{err}. Clear it with `{fix_command(folder)}` and run again") from err
        return history, DynamicsRecord.from_json(blob)
    return history, finished(history)


def sharpness_trajectory(
    model: nn.Module,
    loss_fn: Any,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    lr: float,
    steps: int,
    *,
    every: int = 10,
    lanczos_iter: int = 20,
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """Full-batch gradient descent on ``(inputs, targets)`` with the sharpness tracked.

    Runs ``steps`` plain GD updates θ ← θ − lr·∇L(θ) (no momentum, no weight decay) on
    ``model`` in place. Every ``every`` steps (and after the last one) the top Hessian
    eigenvalue λ_max of the same full-batch loss is estimated with ``lanczos_iter`` Lanczos
    iterations (:func:`landscape.hessian_top_eigen`). Returns ``{"step", "sharpness"}``
    (the tracked steps, step 0 being the start) and ``{"loss"}``, the loss before each
    update plus the final one (``steps + 1`` values). Stops early, with the loss ``inf``
    recorded, if the loss stops being finite (divergence).
    """

    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    if steps < 1 or every < 1 or lanczos_iter < 1:
        raise ValueError(f"steps, every and lanczos_iter must be ≥ 1, got {steps}, {every}, {lanczos_iter}")
    params = [p for p in model.parameters() if p.requires_grad]
    tracked, sharp, losses = [], [], []

    def track(step: int) -> None:
        with warnings.catch_warnings():   # a few iterations are a deliberate estimate
            warnings.simplefilter("ignore", UserWarning)
            vals, _ = hessian_top_eigen(model, loss_fn, (inputs, targets), k=1, method="lanczos",
                                        max_iter=lanczos_iter, seed=seed)
        tracked.append(step)
        sharp.append(vals[0])

    for step in range(steps + 1):
        loss = loss_fn(model(inputs), targets)
        if not torch.isfinite(loss):
            losses.append(math.inf)
            break
        losses.append(loss.item())
        if step % every == 0 or step == steps:
            track(step)
        if step == steps:
            break
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(lr * g)
    return {"step": torch.tensor(tracked), "sharpness": torch.tensor(sharp, dtype=torch.float64),
            "loss": torch.tensor(losses, dtype=torch.float64)}
