"""Per-epoch dynamics of a training run, recorded through the hooks of :func:`training.train`,
and the measurements section 5.5 makes beside them.

A :class:`DynamicsTracker` records, per epoch: the training loss, the mean global
gradient L2 norm (all parameters as one vector), the L2 distance the parameters moved
since the previous epoch, the global weight norm, the loss improvement, and the mean
gradient norm of every layer; with a :class:`Probe`, also the full-batch gradient norm, the
root-mean-square minibatch gradient norm and the sharpness λ_max at each epoch's weights.
:func:`tracked_train` wires it into ``train`` and, with a cache configuration, stores the
record with the run's checkpoints (one commit for all of them), so a cached run returns its
dynamics too (``train`` skips the hooks when it loads from the cache).

Beside the tracker: :func:`gradient_noise` (how much of a minibatch gradient is the mean
gradient), :func:`layer_input_spread` (does the signal still differ from sample to sample,
layer by layer), :func:`variance_ratio` (the F interval of a ratio of two sample variances)
and :func:`sharpness_trajectory` (λ_max along full-batch gradient descent, with or without
momentum, with a learning rate that may change along the way).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from scipy import stats as _scipy_stats
from torch import nn

from .landscape import hessian_top_eigen
from .run_cache import CacheCorruptError, entry_folder, fix_command, require_fields
from .training import History, global_grad_norm, load_record, train

DYNAMICS_FORMAT = 2  # part of the cache key of tracked runs (2: the probe fields)


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
    # with a Probe (nan where it measured nothing): at each epoch's end weights
    full_grad_norm: list[float] = field(default_factory=list)   # ‖∇L‖ of the probe's whole batch
    batch_grad_rms: list[float] = field(default_factory=list)   # √(mean ‖g_B‖²) over its minibatches
    sharpness: list[float] = field(default_factory=list)        # λ_max (Lanczos)

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


def _flat_grad(loss: torch.Tensor, params: list[nn.Parameter]) -> torch.Tensor:
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, params)])


def gradient_noise(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int,
                   loss_fn: Any = None) -> tuple[float, float]:
    """(‖∇L‖, √(Σ_B w_B ‖g_B‖²)) at the model's current weights: the gradient of the mean loss over
    all of ``(x, y)`` and the root-mean-square norm of the gradients of its consecutive minibatches
    of ``batch_size`` (weights w_B = |B|/N, so that ∇L = Σ w_B g_B). They are tied by

        Σ_B w_B ‖g_B‖² = ‖∇L‖² + Σ_B w_B ‖g_B − ∇L‖²,

    so 1 − (first/second)² is the share of a minibatch gradient's squared norm that is noise.
    ``.grad`` fields and every random state are left as they were."""
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if len(x) != len(y) or len(y) == 0:
        raise ValueError(f"x and y must hold the same positive number of samples, got {len(x)} and {len(y)}")
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    params = [p for p in model.parameters() if p.requires_grad]
    device = params[0].device
    with torch.enable_grad():
        full = _flat_grad(loss_fn(model(x.to(device)), y.to(device)), params)
        square = 0.0
        for start in range(0, len(y), batch_size):
            xb, yb = x[start:start + batch_size].to(device), y[start:start + batch_size].to(device)
            square += len(yb) / len(y) * float(_flat_grad(loss_fn(model(xb), yb), params).double().norm() ** 2)
    return float(full.double().norm()), math.sqrt(square)


@dataclass(frozen=True)
class Probe:
    """What a :class:`DynamicsTracker` also measures at the weights of every epoch's end (and before
    training) on fixed data ``(x, y)`` — never on the training loader, whose random state it leaves
    alone, so a probed run trains exactly as an unprobed one.

    - ``gradient_noise``: :func:`gradient_noise` with minibatches of ``batch_size``;
    - ``sharpness_iter`` > 0: λ_max of the loss on the first ``sharpness_samples`` samples, by that
      many Lanczos iterations;
    - ``until_epoch``: probe epochs 0 … ``until_epoch`` only (None: every epoch).
    """

    x: torch.Tensor
    y: torch.Tensor
    batch_size: int = 128
    gradient_noise: bool = True
    sharpness_iter: int = 0
    sharpness_samples: int = 500
    until_epoch: int | None = None

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y) or len(self.y) == 0:
            raise ValueError(f"probe data: x and y must hold the same positive number of samples, "
                             f"got {len(self.x)} and {len(self.y)}")
        for name in ("batch_size", "sharpness_samples"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"probe {name} must be a positive int, got {value!r}")
        if not (isinstance(self.sharpness_iter, int) and self.sharpness_iter >= 0):
            raise ValueError(f"probe sharpness_iter must be an int >= 0, got {self.sharpness_iter!r}")
        if self.until_epoch is not None and not (isinstance(self.until_epoch, int) and self.until_epoch >= 0):
            raise ValueError(f"probe until_epoch must be None or an int >= 0, got {self.until_epoch!r}")

    def key(self) -> dict[str, Any]:
        """What the probe's numbers depend on, for a cache key (the data by content hash)."""
        return {"x": self.x, "y": self.y, "batch_size": self.batch_size, "gradient_noise": self.gradient_noise,
                "sharpness_iter": self.sharpness_iter, "sharpness_samples": self.sharpness_samples,
                "until_epoch": self.until_epoch}

    def measure(self, model: nn.Module, epoch: int) -> tuple[float, float, float]:
        """(full-batch gradient norm, minibatch rms norm, λ_max), nan for what is not measured."""
        if self.until_epoch is not None and epoch > self.until_epoch:
            return math.nan, math.nan, math.nan
        full = rms = lam = math.nan
        if self.gradient_noise:
            full, rms = gradient_noise(model, self.x, self.y, self.batch_size)
        if self.sharpness_iter:
            n = min(self.sharpness_samples, len(self.y))
            device = next(model.parameters()).device
            with warnings.catch_warnings():   # a few iterations are a deliberate estimate
                warnings.simplefilter("ignore", UserWarning)
                vals, _ = hessian_top_eigen(model, nn.CrossEntropyLoss(),
                                            (self.x[:n].to(device), self.y[:n].to(device)), k=1,
                                            method="lanczos", max_iter=self.sharpness_iter, seed=0)
            lam = vals[0]
        return full, rms, lam


class DynamicsTracker:
    """Pass ``tracker.after_backward`` and ``tracker.on_epoch_end`` to :func:`training.train`.

    ``layers`` restricts the per-layer record to some owner names of :func:`layer_groups`
    (default: every module that owns parameters). Gradient norms are measured right after
    ``backward()``, before any clipping, so they show what the loss asked for. ``probe`` adds
    the measurements of a :class:`Probe` (epoch 0 is probed at the first step, before the
    optimizer has moved anything).
    """

    def __init__(self, model: nn.Module, layers: list[str] | None = None, probe: Probe | None = None) -> None:
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
        self._probe = probe
        self._probe0: tuple[float, float, float] = (math.nan, math.nan, math.nan)
        self._probed0 = False
        self._reset_sums()
        self._started = False

    def _reset_sums(self) -> None:
        self._layer_sums = [0.0] * len(self._groups)
        self._steps = 0

    def after_backward(self, model: nn.Module) -> None:
        if self._probe is not None and not self._probed0:   # the weights are still the initial ones
            self._probe0, self._probed0 = self._probe.measure(model, 0), True
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
        self._append_probe(self._probe0)
        self._started = True

    def _append_probe(self, values: tuple[float, float, float]) -> None:
        r = self.record
        r.full_grad_norm.append(values[0])
        r.batch_grad_rms.append(values[1])
        r.sharpness.append(values[2])

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
        nothing = (math.nan, math.nan, math.nan)
        self._append_probe(self._probe.measure(model, epoch) if self._probe is not None else nothing)
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
    probe: Probe | None = None,
    cache_config: Mapping[str, Any] | None = None,
    **train_kwargs: Any,
) -> tuple[History, DynamicsRecord]:
    """:func:`training.train` with a :class:`DynamicsTracker`; returns the history and the dynamics.

    With ``cache=True`` (or ``cache_config``) the record is stored as ``dynamics.json`` with the run's other files
    (published together when the run ends, never rewritten), and a cached run returns it
    without training. The probe, if any, is part of the cache key.
    """
    for hook in ("after_backward", "on_epoch_end", "extra_records"):
        if hook in train_kwargs:
            raise ValueError(f"tracked_train sets {hook} itself; pass other keyword arguments only")
    caching = cache_config is not None or bool(train_kwargs.get("cache"))
    config = None
    if caching:
        config = {**(cache_config or {}), "dynamics_format": DYNAMICS_FORMAT}
        if probe is not None:
            config["probe"] = probe.key()
    tracker = DynamicsTracker(model, layers, probe)

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


@torch.no_grad()
def layer_input_spread(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """How much the signal still differs from sample to sample, layer by layer: for the input of
    every ``nn.Linear`` in forward order (the raw input first, then each hidden state), the
    variance over the samples of ``x`` of every unit, averaged over the units. A value near 0
    deep in a network means every input produces the same features there: nothing downstream can
    tell the inputs apart."""
    if len(x) < 2:
        raise ValueError(f"the spread over samples needs at least 2 samples, got {len(x)}")
    spreads: list[float] = []

    def keep(_module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        h = inputs[0].flatten(1).double()
        spreads.append(float(h.var(0, unbiased=False).mean()))

    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to measure")
    handles = [m.register_forward_pre_hook(keep) for m in linears]
    was_training = model.training
    model.eval()
    try:
        model(x.to(next(model.parameters()).device))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return np.array(spreads)


@dataclass(frozen=True)
class VarianceRatio:
    """var(a)/var(b) with its ``level`` interval (both samples independent and normal: F distribution)."""

    ratio: float
    low: float
    high: float
    df: tuple[int, int]


def variance_ratio(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> VarianceRatio:
    """The ratio of the sample variances of ``a`` and ``b`` and its interval: the ratio divided by the
    F(n_a − 1, n_b − 1) quantiles (for 47 values each, the interval spans about ×/÷ 1.8)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or b.ndim != 1 or len(a) < 2 or len(b) < 2:
        raise ValueError(f"need two 1-D samples of at least 2 values, got shapes {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("the samples hold non-finite values")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    var_b = float(b.var(ddof=1))
    if var_b == 0:
        raise ValueError("the second sample does not vary (zero variance): the ratio is undefined")
    ratio = float(a.var(ddof=1)) / var_b
    df = (len(a) - 1, len(b) - 1)
    tail = (1 - level) / 2
    upper, lower = _scipy_stats.f.ppf(1 - tail, *df), _scipy_stats.f.ppf(tail, *df)
    return VarianceRatio(ratio, ratio / float(upper), ratio / float(lower), df)


def _learning_rates(lr: float | Sequence[float], steps: int) -> list[float]:
    rates = [float(lr)] * steps if isinstance(lr, (int, float)) else [float(v) for v in lr]
    if len(rates) != steps:
        raise ValueError(f"lr must be one number or one learning rate per step ({steps}), got {len(rates)}")
    bad = [v for v in rates if not (math.isfinite(v) and v > 0)]
    if bad:
        raise ValueError(f"lr: learning rates must be positive finite numbers, got {bad[0]!r}")
    return rates


def sharpness_trajectory(
    model: nn.Module,
    loss_fn: Any,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    lr: float | Sequence[float],
    steps: int,
    *,
    every: int = 10,
    lanczos_iter: int = 20,
    top: int = 1,
    momentum: float = 0.0,
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """Full-batch gradient descent on ``(inputs, targets)`` with the sharpness tracked.

    Runs ``steps`` updates on ``model`` in place: plain GD θ ← θ − η∇L(θ), or with ``momentum``
    β > 0 the heavy ball as ``torch.optim.SGD`` writes it, v ← βv + ∇L(θ), θ ← θ − ηv (no weight
    decay). On a quadratic with curvature λ, GD is stable while λ < 2/η and the heavy ball while
    λ < (2 + 2β)/η. ``lr`` is one learning rate, or one per step (e.g. a drop halfway).
    Every ``every`` steps (and after the last one) the ``top`` largest-magnitude Hessian
    eigenvalues of the same full-batch loss are estimated with ``lanczos_iter`` Lanczos
    iterations (:func:`landscape.hessian_top_eigen`); λ_max is the largest of them (ask for
    ``top`` ≥ 2 where a negative eigenvalue may be the largest in magnitude).

    Returns ``step`` (the tracked steps, 0 = the start), ``sharpness`` (λ_max at those steps),
    ``eigenvalues`` (tracked steps × ``top``, largest first), ``lr`` (the learning rate of each update),
    ``loss`` (before each update, plus the final one: ``steps + 1`` values) and ``final`` (the
    parameters at the end, one flat vector). Stops early, with the loss ``inf`` recorded, if the
    loss stops being finite (divergence).
    """

    if not (isinstance(steps, int) and steps >= 1) or every < 1 or lanczos_iter < 1:
        raise ValueError(f"steps, every and lanczos_iter must be ≥ 1, got {steps}, {every}, {lanczos_iter}")
    if not (isinstance(top, int) and 1 <= top <= lanczos_iter):
        raise ValueError(f"top must be an int between 1 and lanczos_iter={lanczos_iter}, got {top!r}")
    if not (math.isfinite(momentum) and 0 <= momentum < 1):
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    rates = _learning_rates(lr, steps)
    params = [p for p in model.parameters() if p.requires_grad]
    velocity = [torch.zeros_like(p) for p in params]
    tracked, eigen, losses = [], [], []

    def track(step: int) -> None:
        with warnings.catch_warnings():   # a few iterations are a deliberate estimate
            warnings.simplefilter("ignore", UserWarning)
            vals, _ = hessian_top_eigen(model, loss_fn, (inputs, targets), k=top, method="lanczos",
                                        max_iter=lanczos_iter, seed=seed)
        tracked.append(step)
        eigen.append(vals)

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
            for p, g, v in zip(params, grads, velocity):
                if momentum:
                    v.mul_(momentum).add_(g)
                    g = v
                p.sub_(rates[step] * g)
    # largest first, with signs: a negative eigenvalue of large magnitude is not the sharpness
    eigenvalues = torch.tensor(eigen, dtype=torch.float64).reshape(len(tracked), top).sort(dim=1, descending=True).values
    return {"step": torch.tensor(tracked), "sharpness": eigenvalues[:, 0].clone(), "eigenvalues": eigenvalues,
            "lr": torch.tensor(rates, dtype=torch.float64), "loss": torch.tensor(losses, dtype=torch.float64),
            "final": flat_parameters(model).float()}
